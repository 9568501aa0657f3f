"""Public pages: page content inside the portal's chrome."""

from __future__ import annotations

import html
import json

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


# The consent banner of the chrome, made to work, and a Matomo-like analytics tag
# that waits for consent. ``fault`` makes it misbehave on purpose:
# "before_consent" measures at once, "ignore_refusal" measures after a refusal.
_CONSENT_SCRIPT = """<script>
(function () {
    var TRACKER = @@TRACKER@@, FAULT = @@FAULT@@;
    var banner = document.querySelector(".ods-cookie-consent");
    function choice() {
        var m = document.cookie.match(/(?:^|; )cookies_preferences=([^;]*)/);
        return m ? m[1] : null;
    }
    function measure() {
        if (!TRACKER) { return; }
        if (document.cookie.indexOf("_pk_id.1.5f3a=") < 0) {
            document.cookie = "_pk_id.1.5f3a=" + Math.random().toString(16).slice(2)
                + "; max-age=33955200; path=/; SameSite=Lax";
        }
        document.cookie = "_pk_ses.1.5f3a=1; max-age=1800; path=/; SameSite=Lax";
        new Image().src = TRACKER + "/matomo.php?idsite=1&rec=1&url="
            + encodeURIComponent(location.href);
    }
    function choose(value) {
        document.cookie = "cookies_preferences=" + value
            + "; max-age=15552000; path=/; SameSite=Lax";
        if (banner) { banner.style.display = "none"; }
        if (value === "accepted" || FAULT === "ignore_refusal") { measure(); }
    }
    var given = choice();
    if (given && banner) { banner.style.display = "none"; }
    if (given === "accepted" || FAULT === "before_consent"
            || (given === "refused" && FAULT === "ignore_refusal")) { measure(); }
    if (banner) {
        banner.querySelector('[ng-click*="accept"]').addEventListener("click", function () {
            choose("accepted");
        });
        banner.querySelector('[ng-click*="refuse"]').addEventListener("click", function () {
            choose("refused");
        });
    }
})();
</script>
"""


def with_consent(page: str, tracker: str | None, fault: str | None) -> str:
    """``page`` with its consent banner wired up (and analytics when a tracker is set)."""
    script = _CONSENT_SCRIPT.replace("@@TRACKER@@", json.dumps(tracker)).replace(
        "@@FAULT@@", json.dumps(fault)
    )
    head, found, tail = page.rpartition("</body>")
    return head + script + found + tail if found else page
