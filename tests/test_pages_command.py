"""``ods-charter pages``: the portal's code editor pages, to find the charter's slug."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ods_charter.simulator import Simulator


def test_pages_lists_every_page_and_marks_cookie_tables(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    result = cli("pages", "--config", project)
    assert result.code == 0, result.all
    rows = {
        line.split()[1] if line.startswith("*") else line.split()[0]: line
        for line in result.out.splitlines()[1:-1]
    }
    # The seeded STAR portal: the charter, two plain pages, and three copies of
    # the charter that are archived, restricted, or pushed by a parent.
    assert set(rows) == {
        "charte-cookies",
        "accueil",
        "contact",
        "ancienne-charte",
        "charte-interne",
        "charte-groupe",
    }
    assert rows["charte-cookies"].startswith("*")
    assert "fr: Charte cookies / en: Cookie charter" in rows["charte-cookies"]
    assert not rows["accueil"].startswith("*") and not rows["contact"].startswith("*")
    assert "archived" in rows["ancienne-charte"]
    assert "restricted" in rows["charte-interne"]
    assert "pushed" in rows["charte-groupe"]
    assert result.out.splitlines()[-1] == "6 pages; * = holds a cookie table"


def test_pages_json(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    page = sim.store.page("contact")
    assert page is not None
    page["has_subdomain_copies"] = True
    sim.store.put_raw_page(page)
    result = cli("pages", "--config", project, "--format", "json")
    assert result.code == 0
    pages = {p["slug"]: p for p in json.loads(result.out)["pages"]}
    assert pages["charte-cookies"]["cookie_table"] == ["fr", "en"]
    assert pages["charte-cookies"]["titles"] == {"fr": "Charte cookies", "en": "Cookie charter"}
    assert pages["charte-cookies"]["updated_at"] == "2024-03-12T09:30:00.000000Z"
    assert pages["accueil"]["cookie_table"] == [] and pages["accueil"]["flags"] == []
    assert pages["contact"]["flags"] == ["subdomain-copies"]
    assert pages["charte-groupe"]["pushed_by_parent"] is True


def test_pages_needs_a_key_and_a_known_format(
    cli, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    bad = cli("pages", "--config", project, "--format", "xml")
    assert bad.code == 2 and "is not one of 'text', 'json'" in bad.all
    monkeypatch.delenv("ODS_API_KEY")
    keyless = cli("pages", "--config", project)
    assert keyless.code == 2 and "set ODS_API_KEY" in keyless.err
