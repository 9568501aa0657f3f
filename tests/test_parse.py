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
        ("Bezeichnung", "name"),
        ("Anbieter", "provider"),
        ("Zweck", "purpose"),
        ("Ablauf", "lifetime"),
        ("Speicherdauer", "lifetime"),
        ("Nombre", "name"),
        ("Proveedor", "provider"),
        ("Finalidad", "purpose"),
        ("Duración", "lifetime"),
        ("Nom", "name"),
        ("Finalitat", "purpose"),
        ("Caducitat", "lifetime"),
        ("Nome", "name"),
        ("Scopo", "purpose"),
        ("Durata", "lifetime"),
        ("Naam", "name"),
        ("Doel", "purpose"),
        ("Bewaartermijn", "lifetime"),
        ("Utilité", "purpose"),
        ("Expiration", "lifetime"),
        ("Cookie expiry", "lifetime"),
        ("Type de stockage", "storage"),
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


WORLD = FIXTURES / "world"


def test_parse_command_reads_the_language_asked_of_a_bilingual_page(cli) -> None:  # type: ignore[no-untyped-def]
    page = WORLD / "bilingual-fr-nl-lang-attributes.html"
    nl = json.loads(cli("parse", "--file", page, "--lang", "nl").out)["cookies"]
    fr = json.loads(cli("parse", "--file", page, "--lang", "fr").out)["cookies"]
    assert [c["name"] for c in nl] == [c["name"] for c in fr]  # once each, not twice
    assert nl[0]["purpose"] != fr[0]["purpose"]
    missing = cli("parse", "--file", page, "--lang", "de")
    assert missing.code == 2 and "none in 'de'" in missing.err


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("13 mois", 390),
        ("13 mois (395 jours)", 390),  # a restatement is not added
        ("1 Jahr", 365),
        ("2 semanas", 14),
        ("sessione", 0),
        ("Sitzung", 0),
        ("Session", 0),
        ("1 any", 365),
        ("6 mesi", 180),
        ("2 jaar", 730),
        ("12 meses", 360),
        ("1,5 Jahre", 547.5),
        ("24 heures", 1),
        ("un an", 365),
        ("persistent", None),
        ("Persistente", None),
    ],
)
def test_lifetimes_in_words_of_every_language(text: str, days: float | None) -> None:
    from ods_charter.lifetime import parse_days

    assert parse_days(text) == days


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Cookies strictement nécessaires", "necessary"),
        ("Unbedingt notwendige Cookies", "necessary"),
        ("Cookies necesarias", "necessary"),
        ("Cookies non nécessaires", None),  # a negation is not the category
        ("Not strictly necessary", None),
        ("Funktionale Cookies", None),
        ("Cookies fonctionnels", None),
        ("Preferences", None),
        ("Marketing", None),
        ("Advertising cookies", None),
        ("Statistik", "statistics"),
        ("Mesure d'audience", "statistics"),
        ("Analytics", "statistics"),
        ("Cookies de terceros", "third_party"),
        ("Drittanbieter", "third_party"),
        ("Cookies internes", "first_party"),
        ("Unclassified", None),
    ],
)
def test_categories_only_where_the_words_are_unambiguous(text: str, category: str | None) -> None:
    from ods_charter.html.vocabulary import category_of

    assert category_of(text) == category


def test_spans_that_would_expand_a_table_without_bound_are_refused() -> None:
    head = "<table><tr><th>Cookie</th><th>Purpose</th></tr>"
    wide = "<tr>" + '<td rowspan="1000">a</td><td>b</td>' * 100 + "</tr>"
    with pytest.raises(ParseError, match="rowspan/colspan add over 50,000 cells"):
        parse_page(head + wide + "<tr><td>x</td></tr>" * 1000 + "</table>", "wide.html")


def test_import_says_which_categories_it_had_to_guess(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "registry.toml"
    result = cli("import", "--file", PAGES / "prestataire-type.html", "--output", out)
    assert result.code == 0
    # "Fonctionnel" names no registry category: written as necessary, and said so.
    assert "note: sessionid: the page states no registry category" in result.err
    assert "note: _pk_id*" not in result.err  # "Statistique" was stated
