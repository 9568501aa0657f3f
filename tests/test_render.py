"""Rendering tables from the registry and splicing them into real pages."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ods_charter.demo import outside_tables
from ods_charter.errors import PublishError
from ods_charter.parse import parse_page
from ods_charter.registry import load_registry, registry_from_data
from ods_charter.render import render_default, splice_registry

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
    spliced = splice_registry(html, registry, "fr")
    page = parse_page(spliced.html)
    assert [[r.name for r in t.records] for t in page.tables] == [
        ["sessionid", "pref"],
        ["_pk_id*"],
        ["_ga"],
    ]
    assert page.tables[1].records[0].lifetime == "13 mois"
    assert spliced.notes and "pref" in spliced.notes[0]
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
    with pytest.raises(PublishError, match="no closing </table>"):
        splice_registry(html.split("<footer")[0], REG, "fr")


def test_render_command(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = REGISTRY.parent / "portal.toml"
    default = cli("render", "--config", config, "--lang", "fr")
    assert default.code == 0 and "<h3>Cookies nécessaires" in default.out
    into = cli("render", "--config", config, "--file", STAR_PAGE)
    assert into.code == 0 and "star-charte__table" in into.out and "<footer" in into.out


def test_a_single_drifted_row_is_the_only_change() -> None:
    html = STAR_PAGE.read_text()
    drifted = html.replace("<td>Récupérer des données via des appels API</td>", "<td>API</td>")
    result = splice_registry(drifted, REG, "fr").html
    # The rewritten row comes out in the page's own formatting: back to the original.
    assert result == html
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
