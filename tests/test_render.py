"""Rendering tables from the registry and splicing them into real pages."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ods_charter.demo import outside_tables
from ods_charter.errors import PublishError
from ods_charter.html.parse import parse_page
from ods_charter.html.render import render_default
from ods_charter.html.splice import splice_registry
from ods_charter.registry import load_registry, registry_from_data

from .conftest import PAGES, REGISTRY, STAR_PAGE

REG = load_registry(REGISTRY)


def test_splice_keeps_the_page_layout_and_every_other_byte() -> None:
    html = STAR_PAGE.read_text()
    drifted = html.replace("<td>Récupérer des données via des appels API</td>", "<td>API</td>")
    result = splice_registry(drifted, REG, "fr").html
    assert outside_tables(result) == outside_tables(html)
    assert '<table class="table table-bordered star-charte__table">' in result
    assert "<th>Nom du cookies</th>" in result  # the page's own heading, not ours
    page = parse_page(result)
    assert [t.headings for t in page.tables] == [
        ["Nom du prestataire", "Service et emplacement", "Nom du cookies", "Finalités"]
    ]
    assert page.tables[0].records[2].purpose == "Récupérer des données via des appels API"
    assert '<table class="ods-footer-stats">' in result  # other tables untouched


def test_split_page_gets_one_table_per_category(tmp_path: Path) -> None:
    registry = registry_from_data(
        {
            "schema_version": 1,
            "languages": ["fr"],
            "cookies": [
                {
                    "name": "sessionid",
                    "provider": "Opendatasoft",
                    "purpose": {"fr": "Auth"},
                    "lifetime_days": 14,
                },
                {
                    "name": "_pk_id*",
                    "provider": "Matomo",
                    "category": "statistics",
                    "purpose": {"fr": "Audience"},
                    "lifetime_days": 390,
                },
                {
                    "name": "_ga",
                    "provider": "Google",
                    "category": "third_party",
                    "purpose": {"fr": "Pub"},
                    "lifetime_days": 390,
                },
                {
                    "name": "pref",
                    "provider": "X",
                    "category": "first_party",
                    "purpose": {"fr": "Choix"},
                },
            ],
        },
        tmp_path / "r.toml",
    )
    html = (PAGES / "split-categories.html").read_text()
    # "pref" is first-party and the page has no such section: never filed elsewhere.
    with pytest.raises(PublishError, match=r"pref: the page has no first_party section"):
        splice_registry(html, registry, "fr")
    registry = replace(registry, cookies=registry.cookies[:-1])
    spliced = splice_registry(html, registry, "fr")
    page = parse_page(spliced.html)
    assert [[r.name for r in t.records] for t in page.tables] == [
        ["sessionid"],
        ["_pk_id*"],
        ["_ga"],
    ]
    assert page.tables[1].records[0].lifetime == "13 mois"
    assert outside_tables(spliced.html) == outside_tables(html)
    assert "Jeux de données les plus consultés" in spliced.html


def test_render_is_deterministic_and_parses_back() -> None:
    first = render_default(REG, "en")
    assert first == render_default(REG, "en")
    records = parse_page(first).records
    assert [r.name for r in records] == [c.name for c in REG.cookies]
    assert records[0].lifetime == "14 days" and records[3].lifetime == "6 months"


def test_unclosed_cookie_table_is_refused() -> None:
    html = STAR_PAGE.read_text().replace("</table>\n</div>", "\n</div>", 1)
    assert html.count("</table>") == 1  # the footer's is left
    html = html.replace("<td>Récupérer des données via des appels API</td>", "<td>API</td>")
    with pytest.raises(PublishError, match="no closing </table>"):
        splice_registry(html.split("<footer")[0], REG, "fr")


def test_render_command(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = REGISTRY.parent / "portal.toml"
    default = cli("render", "--config", config, "--lang", "fr")
    assert default.code == 0 and "<h3>Cookies nécessaires" in default.out
    into = cli("render", "--config", config, "--page-file", STAR_PAGE)
    assert into.code == 0 and "star-charte__table" in into.out and "<footer" in into.out


def test_a_single_drifted_row_is_the_only_change() -> None:
    html = STAR_PAGE.read_text()
    drifted = html.replace("<td>Récupérer des données via des appels API</td>", "<td>API</td>")
    result = splice_registry(drifted, REG, "fr").html
    # The rewritten row comes out in the page's own formatting: back to the original,
    # marked as text AngularJS must not compile.
    row = html.rindex("<tr>", 0, html.index("<td>Récupérer des données via des appels API</td>"))
    assert result == html[:row] + "<tr ng-non-bindable>" + html[row + len("<tr>") :]
    # The untouched sessionid row kept its own markup, <p> and all.
    assert (
        "<td><p>Se souvenir de l'utilisateur d'une page à une autre.</p><p><br></p></td>" in result
    )


def test_rows_are_removed_and_added_in_place() -> None:
    html = STAR_PAGE.read_text()
    start = html.index("<tr>", html.index("<td>csrftoken</td>") - 200)
    end = html.index("</tr>", start) + len("</tr>")
    without = html[: html.rfind("\n", 0, start)] + html[end:]  # csrftoken row gone
    extra = "\n            <tr><td>X</td><td>Y</td><td>ods_old</td><td>Z</td></tr>"
    drifted = without.replace("\n        </tbody>", extra + "\n        </tbody>")
    result = splice_registry(drifted, REG, "fr").html
    records = parse_page(result).records
    assert sorted(r.name for r in records) == sorted(c.name for c in REG.cookies)
    assert "ods_old" not in result
    assert result.count("<p><br></p>") == 1  # sessionid's row kept as it was
    assert outside_tables(result) == outside_tables(html)


def test_a_table_with_rowspans_is_rebuilt_whole(tmp_path: Path) -> None:
    html = (PAGES / "rowspan-colspan.html").read_text()
    spliced = splice_registry(html, REG, "fr").html
    assert "rowspan" not in spliced.split("<table", 1)[1].split("</table>", 1)[0]
    assert [r.name for r in parse_page(spliced).records] == [c.name for c in REG.cookies]


def test_an_unchanged_row_with_several_names_is_kept_and_edits_follow_the_page_style() -> None:
    from ods_charter.importer import registry_from_page

    html = (PAGES / "en-service-provider.html").read_text()
    registry = registry_from_page(parse_page(html), "en")
    first = registry.cookies[0]
    changed = replace(
        registry, cookies=(replace(first, purpose={"en": "Changed"}), *registry.cookies[1:])
    )
    result = splice_registry(html, changed, "en").html
    assert "<td>_hjSessionUser<br>_hjid<br/>_hjSession_*</td>" in result  # kept as written
    assert "\n    <td>Changed</td>\n  </tr>" in result  # the page's two-space steps
    assert outside_tables(result) == outside_tables(html)


def _unguarded_braces(html: str) -> list[str]:
    """Text holding ``{{`` that AngularJS would compile: no ng-non-bindable
    element around it (read with an HTML5 parser, as the portal's browser does)."""
    from selectolax.lexbor import LexborHTMLParser

    found = []
    for node in LexborHTMLParser(html).root.traverse(include_text=True):
        if node.is_text_node and "{{" in (node.text_content or ""):
            parent = node.parent
            while parent is not None and "ng-non-bindable" not in (parent.attributes or {}):
                parent = parent.parent
            if parent is None:
                found.append(node.text_content or "")
    return found


def test_registry_braces_reach_the_portal_as_text_not_as_angularjs(tmp_path: Path) -> None:
    hostile = "{{ constructor.constructor('alert(document.cookie)')() }}"
    cookies = [replace(c, purpose={**c.purpose, "fr": hostile}) for c in REG.cookies]
    registry = replace(REG, cookies=tuple(cookies))
    html = STAR_PAGE.read_text()
    spliced = splice_registry(html, registry, "fr").html
    assert spliced.count(hostile) == len(cookies)
    # The page's own AngularJS expressions (header, footer) are its own, not registry text.
    assert _unguarded_braces(spliced) == _unguarded_braces(html)
    assert "{{ ctx.stats.api_calls | number }}" in _unguarded_braces(html)
    fresh = render_default(registry, "fr")
    assert fresh.count(hostile) == len(cookies) and _unguarded_braces(fresh) == []
    script = replace(cookies[0], purpose={"fr": "<script>alert(1)</script> javascript:x"})
    assert "<script>" not in render_default(replace(REG, cookies=(script,)), "fr")


@pytest.mark.parametrize("language", ["fr", "en", "de", "es", "ca", "it", "nl", "pt"])
def test_a_new_table_is_written_in_the_page_language_and_reads_back(language: str) -> None:
    from ods_charter.html.vocabulary import HEADINGS, SECTION_TITLES

    cookies = [
        replace(c, purpose={language: f"{c.name} ({language})"}, service={}) for c in REG.cookies
    ]
    registry = replace(REG, languages=(language,), cookies=tuple(cookies))
    html = render_default(registry, language)
    assert HEADINGS[language]["purpose"] in html and HEADINGS[language]["name"] in html
    assert SECTION_TITLES[language]["necessary"] in html
    page = parse_page(html, "new", language)
    assert [(r.name, r.purpose, r.category) for r in page.records] == [
        (c.name, c.purpose[language], c.category) for c in cookies
    ]
    from ods_charter.lifetime import same_lifetime

    for record, cookie in zip(page.records, cookies, strict=True):
        assert cookie.lifetime_days is None or same_lifetime(
            cookie.lifetime_days, record.lifetime or ""
        )


def test_validate_and_lint_report_braces_in_registry_text(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from .conftest import write_config

    config = write_config(tmp_path / "config", "https://portal.example.org")
    registry = config.parent / "registry.toml"
    text = registry.read_text(encoding="utf-8")
    first = text.index('purpose.fr = "') + len('purpose.fr = "')
    registry.write_text(text[:first] + "{{ 7 * 7 }} " + text[first:], encoding="utf-8")
    validated = cli("validate", "--config", config)
    assert validated.code == 0 and "purpose.fr holds '{{' or '}}'" in validated.err
    linted = cli("lint", "--config", config)
    assert linted.code == 1 and "[template-braces]" in linted.out
