"""Public pages: page content inside the portal's chrome."""

from __future__ import annotations

import html

from ods_charter.simulator.state import data_text

_TEMPLATE: str | None = None


def chrome(content: str, *, title: str, language: str, css: str = "", portal: str) -> str:
    global _TEMPLATE
    if _TEMPLATE is None:
        _TEMPLATE = data_text("portal_page.html")
    head, _, tail = _TEMPLATE.partition("@@CONTENT@@")

    def fill(part: str) -> str:
        return (
            part.replace("@@LANG@@", html.escape(language))
            .replace("@@TITLE@@", html.escape(title))
            .replace("@@PORTAL@@", html.escape(portal))
            .replace("@@CSS@@", css)
        )

    # The content goes in untouched: it is the portal admin's HTML.
    return fill(head) + content + fill(tail)


def not_found(portal: str, language: str) -> str:
    body = (
        '<div class="ods-error-page"><h1>Page introuvable</h1>'
        "<p>La page demandée n'existe pas ou n'est plus disponible.</p></div>"
    )
    return chrome(body, title="Page introuvable", language=language, portal=portal)


def home(portal: str, language: str) -> str:
    body = (
        '<div class="ods-home"><h1>Bienvenue sur le portail open data du STAR</h1>'
        '<ods-catalog-context context="catalog"><div ods-results="items">'
        "{{ items.length }} jeux de données</div></ods-catalog-context></div>"
    )
    return chrome(body, title="Accueil", language=language, portal=portal)
