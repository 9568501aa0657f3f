"""The parser on real-world-shaped charter pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ods_charter.errors import ParseError
from ods_charter.html.parse import parse_cookies, parse_page, role_of

from .conftest import FIXTURES, PAGES

CASES = sorted(p.stem for p in (FIXTURES / "expected").glob("*.json"))


@pytest.mark.parametrize("name", CASES)
def test_each_fixture_gives_its_expected_records(name: str) -> None:
    expected = json.loads((FIXTURES / "expected" / f"{name}.json").read_text())["cookies"]
    records = [r.as_dict() for r in parse_cookies((PAGES / f"{name}.html").read_bytes())]
    assert records == expected


def test_at_least_eight_variants_besides_star() -> None:
    assert len([c for c in CASES if c != "star-charte-cookies"]) >= 7
    assert len(list(PAGES.glob("*.html"))) >= 9


def test_star_page_ignores_the_footer_table_and_reads_four_cookies() -> None:
    page = parse_page((PAGES / "star-charte-cookies.html").read_bytes())
    assert [r.name for r in page.records] == [
        "sessionid",
        "django_language",
        "csrftoken",
        "cookies_preferences",
    ]
    assert page.other_tables == [["Jeux de données", "Réutilisations", "Appels API (mois)"]]
    assert {r.category for r in page.records} == {"necessary"}


def test_several_names_in_one_cell_become_several_records() -> None:
    names = [r.name for r in parse_cookies((PAGES / "en-service-provider.html").read_bytes())]
    assert names[-3:] == ["_hjSessionUser", "_hjid", "_hjSession_*"]
    names = [r.name for r in parse_cookies((PAGES / "rowspan-colspan.html").read_bytes())]
    assert {"csrftoken", "csrftoken_legacy", "_pk_id.*", "_pk_ses.*"} <= set(names)


def test_rowspan_fills_the_provider_of_following_rows() -> None:
    records = parse_cookies((PAGES / "split-categories.html").read_bytes())
    gid = next(r for r in records if r.name == "_gid")
    assert (gid.provider, gid.category, gid.lifetime) == ("Google", "third_party", "24 heures")


def test_category_heading_row_inside_a_table() -> None:
    records = {r.name: r for r in parse_cookies((PAGES / "rowspan-colspan.html").read_bytes())}
    # "Cookies fonctionnels": functional cookies are not necessarily necessary ones.
    assert records["sessionid"].category is None
    assert records["_pk_id.*"].category == "statistics"


def test_page_without_cookie_table_says_which_tables_it_saw() -> None:
    with pytest.raises(ParseError) as err:
        parse_page((PAGES / "no-cookie-table.html").read_bytes(), "home.html")
    message = str(err.value)
    assert "home.html: no cookie table" in message
    assert "Jeux de données | Réutilisations" in message and "Ligne | Terminus" in message


@pytest.mark.parametrize(
    ("heading", "role"),
    [
        ("Nom du prestataire", "provider"),
        ("Prestataire", "provider"),
        ("Service provider's name", "provider"),
        ("Supplier name", "provider"),
        ("Nom du cookies", "name"),
        ("Nom du cookie", "name"),
        ("Cookie name(s)", "name"),
        ("Cookie", "name"),
        ("Finalités", "purpose"),
        ("Purpose(s)", "purpose"),
        ("Function", "purpose"),
        ("Function and location", "service"),
        ("Service et emplacement", "service"),
        ("Durée de vie", "lifetime"),
        ("Duration", "lifetime"),
        ("Retention period", "lifetime"),
        ("Type", "category"),
        ("Jeu de données", None),
    ],
)
def test_heading_wordings(heading: str, role: str | None) -> None:
    assert role_of(heading) == role


def test_empty_and_unreadable_input_is_a_parse_error(tmp_path: Path) -> None:
    for body in (b"", b"   \n", b"\x00\x01\x02"):
        with pytest.raises(ParseError):
            parse_page(body)


def test_header_only_table_gives_no_records() -> None:
    html = (PAGES / "supplier-duration.html").read_text()
    start, end = html.index("<tbody>"), html.index("</tbody>")
    page = parse_page(html[:start] + html[end:])
    assert page.records == [] and len(page.tables) == 1
