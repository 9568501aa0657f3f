"""The key never shows, even when a hostile portal echoes it back in any spelling."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from ods_charter.secrets import MASK, redact, register
from ods_charter.simulator import Simulator

from .conftest import API_KEY, charter_page, edit_charter

SLUG = "charte-cookies"
# Spellings a reader decodes back to the key: a browser (entities), a URL, JSON.
SPELLINGS = [
    API_KEY.upper(),
    "".join(f"%{ord(c):02X}" for c in API_KEY),
    "".join(f"&#x{ord(c):x};" for c in API_KEY),
    "".join(f"&#{ord(c)};" for c in API_KEY.swapcase()),
    "".join(f"\\u{ord(c):04x}" for c in API_KEY),
]


def _exposes(data: str | bytes) -> bool:
    """Whether the key can be read back from ``data``, decoded as a reader would."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return API_KEY.lower() in html.unescape(unquote(text)).lower()


def _hostile(sim: Simulator) -> None:
    """The portal echoes the key in the cookie table, around it, and in metadata."""
    edit_charter(
        sim, "fr", "Se souvenir de la langue du visiteur", "Langue " + " ".join(SPELLINGS[:2])
    )
    page = sim.store.page(SLUG)
    assert page is not None
    page["content"]["html"]["fr"] += "<p>" + " ".join(SPELLINGS) + "</p>"
    page["title"]["fr"] += " " + SPELLINGS[0]
    page["updated_by"] = {"username": SPELLINGS[1]}
    sim.store.put_raw_page(page)


def test_the_oracle_sees_every_spelling() -> None:
    assert all(_exposes(spelling) for spelling in SPELLINGS)
    assert not _exposes(MASK) and not _exposes(API_KEY[:-1])


def test_an_echoed_key_never_reaches_output_reports_backups_or_audit(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _hostile(sim)
    work = project.parent.parent
    results = [
        cli("check", "--config", project),
        cli("check", "--config", project, "--format", "json", "--output", work / "report.json"),
        cli("check", "--config", project, "--format", "html", "--output", work / "report.html"),
        cli("parse", "--config", project, "--lang", "fr", "--format", "table"),
        cli("fetch", "--config", project, "--lang", "fr"),
        cli("fetch", "--config", project, "--lang", "fr", "--output", work / "page.html"),
        cli("import", "--config", project, "--lang", "fr", "--output", work / "imported.toml"),
        cli("publish", "--config", project, "--dry-run"),
        cli("sync", "--config", project, "--yes", "--backup-dir", work / "bk"),
    ]
    assert results[0].code == 1 and results[-1].code == 0, results[-1].all
    assert "-" in results[-2].out and "Langue" in results[-2].out  # the diff was shown
    for result in results:
        assert not _exposes(result.all), result.all
    written = [p for p in work.rglob("*") if p.is_file() and p.name != "state.json"]
    assert {p.name for p in written} >= {"report.json", "report.html", "page.html", "audit.jsonl"}
    assert any(p.parent.name == "bk" for p in written)
    for path in written:
        assert not _exposes(path.read_bytes()), path


def test_a_cookie_named_after_the_key_is_removed_and_audited_masked(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    """A row whose cookie name spells the key (as HTML entities, which the parser
    decodes to the key itself) is not in the registry: sync removes it, and the
    audit line names what it removed. The parsed name never passes through the
    output streams or ``atomic_write``: only the audit log's own masking keeps it out."""
    row = "<td>Se souvenir de la langue du visiteur</td>"
    edit_charter(
        sim,
        "fr",
        row,
        f"{row}</tr><tr><td>X</td><td>Traceur</td><td>{SPELLINGS[2]}</td><td>Suivi</td>",
    )
    result = cli("sync", "--config", project, "--yes", "--backup-dir", project.parent / "bk")
    assert result.code == 0, result.all
    assert not _exposes(charter_page(sim)["content"]["html"]["fr"])  # the row is gone
    lines = [json.loads(line) for line in Path(".ods-charter/audit.jsonl").read_text().splitlines()]
    assert [line["event"] for line in lines] == ["started", "completed"]
    assert all(line["cookies"]["fr"]["removed"] == [MASK] for line in lines), lines
    assert not _exposes(Path(".ods-charter/audit.jsonl").read_bytes())


def test_a_redirect_that_echoes_the_key_is_reported_masked(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    sim.faults.arm({"redirect": 1, "redirect_to": f"https://portal.example/{SPELLINGS[1]}"})
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2 and "redirect" in result.err and "portal.example/" in result.err
    assert not _exposes(result.all)


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_redact_masks_each_spelling_and_nothing_else(spelling: str) -> None:
    register(API_KEY)
    text = f"before {spelling} after; the key {API_KEY} again"
    assert redact(text) == f"before {MASK} after; the key {MASK} again"
    assert redact("an ordinary sentence, 100% & <b>safe</b>") == (
        "an ordinary sentence, 100% & <b>safe</b>"
    )


def test_json_output_is_masked_in_its_escaped_form(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    _hostile(sim)
    result = cli("check", "--config", project, "--format", "json")
    json.loads(result.out)  # still valid JSON once masked
    assert not _exposes(result.out)
