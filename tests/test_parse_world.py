"""The parser against charter pages of every language and shape Opendatasoft
portals publish (issue 12).

Each page under ``fixtures/world/`` was written by hand after a real public page
of its kind (a comment at its top says which); the JSON beside it holds what a
careful human reads on that page, typed by hand, and for the HTML5 questions
checked against a real browser (see ``fixtures/world/README.md``). Nothing here
was produced by running the parser.

A page whose JSON has ``languages`` holds one charter in several languages:
``parse_page(html, source, lang=code)`` must give that language's records.
A page whose JSON has ``error`` must be refused with a ParseError saying so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ods_charter.errors import ParseError
from ods_charter.html.parse import parse_page
from ods_charter.lifetime import parse_days

WORLD = Path(__file__).resolve().parent / "fixtures" / "world"
CASES = sorted(p.stem for p in WORLD.glob("*.json"))
KEYS = ("name", "provider", "service", "purpose", "lifetime", "category", "storage")


def _expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((WORLD / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _as_read(record: Any) -> dict[str, Any]:
    """A record as the JSON states it: the fields, the storage kind where the
    record type has one, and the lifetime in days as the library counts it."""
    row = {key: getattr(record, key, None) for key in KEYS}
    row["lifetime_days"] = parse_days(record.lifetime) if record.lifetime else None
    return row


def _typed(cookies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Lifetimes in hours or fractions of a year are floats: compare them loosely.
    return [
        {
            **c,
            "lifetime_days": None
            if c["lifetime_days"] is None
            else pytest.approx(c["lifetime_days"], rel=1e-3),
        }
        for c in cookies
    ]


@pytest.mark.parametrize("case", CASES)
def test_world_page_gives_the_records_a_reader_sees(case: str) -> None:
    expected = _expected(case)
    html = (WORLD / f"{case}.html").read_bytes()
    source = f"{case}.html"
    if "error" in expected:
        with pytest.raises(ParseError) as err:
            parse_page(html, source)
        message = str(err.value)
        # One line that names the page and says what is wrong with it.
        assert expected["error"] in message and source in message and "\n" not in message
        return
    if "languages" in expected:
        for lang, cookies in expected["languages"].items():
            records = [_as_read(r) for r in parse_page(html, source, lang=lang).records]
            assert records == _typed(cookies), f"language {lang}"
        return
    records = [_as_read(r) for r in parse_page(html, source).records]
    assert records == _typed(expected["cookies"])


def test_every_world_page_is_described() -> None:
    """Each page has its JSON, says what real page it is shaped after, and the
    README lists it: an oracle nobody can trace is no oracle."""
    pages = sorted(p.stem for p in WORLD.glob("*.html"))
    assert pages == CASES and len(CASES) >= 25
    readme = (WORLD / "README.md").read_text(encoding="utf-8")
    for case in CASES:
        # Not every page is UTF-8 (one is Latin-1 on purpose); the comment is ASCII.
        head = (WORLD / f"{case}.html").read_bytes()[:600].decode("ascii", "replace")
        assert "Shaped after" in head, case
        assert _expected(case)["source"], case
        assert f"`{case}`" in readme, case
        data = _expected(case)
        groups = data.get("languages", {"": data.get("cookies", [])}).values()
        for cookie in (c for group in groups for c in group):
            assert set(cookie) == {*KEYS, "lifetime_days"}, (case, cookie)
