"""Rollback: only the right backup onto the right page, every change shown,
and backups that cannot land outside their directory."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from ods_charter.backup import read_backup, write_backup
from ods_charter.errors import ConfigError, PublishError
from ods_charter.portal import AutomationClient
from ods_charter.publish import plan_rollback
from ods_charter.simulator import Simulator

from .conftest import API_KEY, edit_charter
from .conftest import put_count as _puts

SLUG = "charte-cookies"


def _backup_after_a_sync(cli, project: Path, sim: Simulator) -> Path:  # type: ignore[no-untyped-def]
    edit_charter(sim, "fr", "Se souvenir de la langue du visiteur", "Langue")
    backups = project.parent / "bk"
    assert cli("sync", "--config", project, "--yes", "--backup-dir", backups).code == 0
    return next(backups.iterdir())


def _rewrite(path: Path, **changes: Any) -> Path:
    data = json.loads(path.read_text())
    data.update(changes)
    out = path.with_name("edited.json")
    out.write_text(json.dumps(data))
    return out


def test_a_backup_from_another_portal_is_refused_unless_forced(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    backup = _rewrite(
        _backup_after_a_sync(cli, project, sim), portal="https://data.other.example.org"
    )
    puts = _puts(sim)
    result = cli("rollback", backup, "--config", project, "--yes")
    assert result.code == 2
    assert "the backup was taken on https://data.other.example.org" in result.err
    assert "--force-portal" in result.err and _puts(sim) == puts
    forced = cli("rollback", backup, "--config", project, "--yes", "--force-portal")
    assert forced.code == 0, forced.all
    assert "note: the backup was taken on https://data.other.example.org" in forced.out


def test_a_backup_of_another_page_is_refused_unless_named(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    backup = _rewrite(_backup_after_a_sync(cli, project, sim), slug="accueil")
    result = cli("rollback", backup, "--config", project, "--yes")
    assert result.code == 2
    assert "the backup is of page 'accueil', not 'charte-cookies'" in result.err
    assert "--to-slug charte-cookies" in result.err
    named = cli("rollback", backup, "--config", project, "--yes", "--to-slug", SLUG)
    assert named.code == 0, named.all
    assert "note: the backup is of page 'accueil'" in named.out


def test_the_rollback_plan_names_every_language_it_adds_or_removes(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    path = _backup_after_a_sync(cli, project, sim)
    data = json.loads(path.read_text())
    content = data["page"]["content"]
    content["html"]["de"] = "<p>Cookie-Richtlinie</p>"
    del content["html"]["en"], content["css"]["en"]
    path.write_text(json.dumps(data))
    result = cli("rollback", path, "--config", project, "--dry-run")
    assert result.code == 0, result.all
    assert result.out.startswith(f"rollback plan for page 'charte-cookies' on {sim.base_url}\n")
    for line in (
        "[de] add the language's html (only in the backup)",
        "[en] remove the language's html (not in the backup)",
        "[en] remove the language's css (not in the backup)",
        "[fr] restore the backed-up html",
    ):
        assert line in result.out
    assert _puts(sim) == 1  # the sync's only


def _one_line_error(result: Any) -> None:
    assert result.code == 2
    assert result.err.count("\n") == 1 and result.err.startswith("error: ")
    assert "Traceback" not in result.all


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"{not json", "not a readable backup"),
        (b"\xff\xfe", "not a readable backup"),
        (b"[]", "expected format 1"),
        (b'{"format": 2}', "expected format 1"),
        (b'{"format": 1, "portal": "x", "page": {}}', "slug: expected a non-empty string"),
        (
            b'{"format": 1, "portal": "x", "slug": "s", "page": {"content": {"html": {"fr": 3}}}}',
            "content.html['fr']: expected a string, got a number",
        ),
        (
            b'{"format": 1, "portal": "x", "slug": "s", '
            b'"page": {"content": {"html": {}, "css": "x"}}}',
            "content.css: expected an object of strings per language",
        ),
        (
            b'{"format": 1, "portal": "x", "slug": "s", '
            b'"page": {"content": {"html": {"fr": "\\ud800"}}}}',
            "lone surrogate",
        ),
    ],
)
def test_malformed_backups_are_refused_in_one_line(
    cli, project: Path, tmp_path: Path, content: bytes, says: str
) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    result = cli("rollback", bad, "--config", project, "--yes")
    _one_line_error(result)
    assert says in result.err and str(bad) in result.err


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/dev/zero", "/dev/zero: not a regular file, so not a backup"),
        ("/", "/: not a regular file, so not a backup"),
        ("missing.json", "missing.json: backup file not found"),
    ],
)
def test_what_is_not_a_backup_file_is_refused_in_one_line(
    cli, project: Path, path: str, says: str
) -> None:  # type: ignore[no-untyped-def]
    result = cli("rollback", path, "--config", project, "--yes")
    _one_line_error(result)
    assert says in result.err


@pytest.mark.parametrize(
    "slug", ["../../escape", "/etc/passwd", "a\x00b", "x" * 5000, "..", "é/../..", "\u202e"]
)
def test_backup_names_stay_in_the_backup_directory(tmp_path: Path, slug: str) -> None:
    backups = tmp_path / "backups"
    page = {"slug": slug, "content": {"html": {"fr": "<p>x</p>"}, "css": {}}}
    path = write_backup(
        backups, portal="https://data.example.org", slug=slug, reason="publish", page=page, sent={}
    )
    assert path.parent == backups and list(backups.iterdir()) == [path]
    # Safe characters only; anything cleaned or cut is marked by a hash of the slug.
    kept = re.sub(r"[^A-Za-z0-9_.-]+", "_", slug).strip("._")[:60] or "_"
    digest = hashlib.sha256(slug.encode("utf-8")).hexdigest()[:10]
    assert path.name.startswith(f"data.example.org-{kept}~{digest}-")
    assert len(path.name) < 160
    assert "\x00" not in path.name and "/" not in path.name
    assert read_backup(path)["slug"] == slug


def test_a_plain_slug_is_used_as_it_is(tmp_path: Path) -> None:
    page = {"content": {"html": {}}}
    path = write_backup(
        tmp_path,
        portal="https://Data.Example.org:8443",
        slug="charte-cookies_2",
        reason="r",
        page=page,
        sent={},
    )
    assert re.fullmatch(r"data\.example\.org_8443-charte-cookies_2-\d{8}T\d{12}Z\.json", path.name)


def test_two_unsafe_slugs_that_clean_up_alike_get_different_names(tmp_path: Path) -> None:
    def name(slug: str) -> str:
        page = {"content": {"html": {}}}
        path = write_backup(tmp_path, portal="https://p", slug=slug, reason="r", page=page, sent={})
        return path.name.rsplit("-", 1)[0]

    assert name("a/b") != name("a?b")


def test_an_existing_backup_directory_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o750)
    page = {"content": {"html": {}}}
    path = write_backup(shared, portal="https://p", slug="s", reason="r", page=page, sent={})
    assert stat.S_IMODE(shared.stat().st_mode) == 0o750
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    fresh = tmp_path / "new" / "backups"
    write_backup(fresh, portal="https://p", slug="s", reason="r", page=page, sent={})
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700


def test_read_backup_wants_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a regular file"):
        read_backup(tmp_path)


def test_the_library_refuses_another_page_unless_asked(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    backup = read_backup(_backup_after_a_sync(cli, project, sim))
    client = AutomationClient(sim.base_url, API_KEY)
    with pytest.raises(PublishError, match="the backup is of page 'charte-cookies', not 'accueil'"):
        plan_rollback(client, backup, slug="accueil")
    plan = plan_rollback(client, backup, slug="accueil", to_slug=True)
    assert plan.slug == "accueil" and plan.html == backup["page"]["content"]["html"]


def test_rollback_onto_an_archived_page_is_refused_by_name(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    backup = _backup_after_a_sync(cli, project, sim)
    result = cli("rollback", backup, "--config", project, "--yes", "--to-slug", "ancienne-charte")
    assert result.code == 2 and "page 'ancienne-charte' is archived" in result.err
