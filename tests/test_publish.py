"""The write path against the simulator, over real HTTP: safety is the feature."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ods_charter.config import load_config
from ods_charter.demo import outside_tables
from ods_charter.errors import ConcurrentEditError
from ods_charter.html.parse import parse_cookies
from ods_charter.portal import AutomationClient
from ods_charter.publish import execute, plan_publish
from ods_charter.registry import load_registry
from ods_charter.simulator import Simulator
from ods_charter.transport import Transport

from .conftest import API_KEY, READ_ONLY_KEY, edit_charter
from .conftest import charter_page as _page
from .conftest import put_count as _puts

SLUG = "charte-cookies"


def _drift(sim: Simulator) -> None:
    edit_charter(sim, "fr", "Se souvenir de la langue du visiteur", "Langue")
    edit_charter(sim, "en", "Retrieve data through API calls", "Get data")


def test_happy_path_in_two_languages_keeps_everything_else(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    before = _page(sim)
    assert cli("check", "--config", project).code == 1

    result = cli("sync", "--config", project, "--yes")
    assert result.code == 0, result.all
    assert "[fr] change django_language purpose" in result.out
    assert "[en] change csrftoken purpose" in result.out
    after = _page(sim)
    for lang in ("fr", "en"):
        assert outside_tables(after["content"]["html"][lang]) == outside_tables(
            before["content"]["html"][lang]
        )
    assert after["content"]["css"] == before["content"]["css"]
    for field in ("title", "description", "tags", "template", "is_restricted"):
        assert after[field] == before[field]
    assert cli("check", "--config", project).code == 0
    fr = {r.name: r for r in parse_cookies(after["content"]["html"]["fr"])}
    assert fr["django_language"].purpose == "Se souvenir de la langue du visiteur"


def test_sync_twice_writes_once(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    assert cli("sync", "--config", project, "--yes").code == 0
    again = cli("sync", "--config", project, "--yes")
    assert again.code == 0 and "nothing to do" in again.out
    assert _puts(sim) == 1
    publish = cli("publish", "--config", project, "--yes")
    assert publish.code == 0 and "nothing to change" in publish.out and _puts(sim) == 1


def test_languages_not_configured_are_sent_back_untouched(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    only_fr = project.read_text().replace('languages = ["fr", "en"]', 'languages = ["fr"]')
    project.write_text(only_fr)
    en_before = _page(sim)["content"]["html"]["en"]
    assert cli("publish", "--config", project, "--yes").code == 0
    assert _page(sim)["content"]["html"]["en"] == en_before  # drifted, but not ours to fix


def test_dry_run_and_declined_write_nothing(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    dry = cli("sync", "--config", project, "--dry-run")
    assert dry.code == 1 and "+" in dry.out and "@@" in dry.out  # plan and unified diff
    publish = cli("publish", "--config", project, "--dry-run")
    assert publish.code == 1  # changes pending
    # The diff a reviewer reads: each language's page now and after, line by line.
    assert "--- charte-cookies [fr] now\n+++ charte-cookies [fr] after publish\n" in publish.out
    assert "--- charte-cookies [en] now\n+++ charte-cookies [en] after publish\n" in publish.out
    removed = [line for line in publish.out.splitlines() if line.startswith("-")]
    added = [line for line in publish.out.splitlines() if line.startswith("+")]
    assert any("Langue" in line for line in removed)
    assert any("Se souvenir de la langue du visiteur" in line for line in added)
    assert "\n\n-" not in publish.out and "\n\n+" not in publish.out  # one line per line
    assert _puts(sim) == 0


def test_no_terminal_without_yes_is_refused(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    result = cli("publish", "--config", project)
    assert result.code == 2 and "pass --yes" in result.err
    assert _puts(sim) == 0 and not (project.parent.parent / ".ods-charter" / "backups").exists()


def test_backup_is_private_and_written_before_the_write(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    before = _page(sim)
    backups = project.parent.parent / "bk"
    assert cli("publish", "--config", project, "--yes", "--backup-dir", backups).code == 0
    files = list(backups.iterdir())
    host = sim.base_url.removeprefix("http://").replace(":", "_")  # 127.0.0.1_PORT
    assert [f.name.startswith(f"{host}-charte-cookies-") for f in files] == [True]
    assert stat.S_IMODE(os.stat(backups).st_mode) == 0o700  # created private
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600
    assert json.loads(files[0].read_text())["page"] == before
    audit = (project.parent.parent / ".ods-charter" / "audit.jsonl").read_text().splitlines()
    started, entry = (json.loads(line) for line in audit)
    assert started["event"] == "started" and started["id"] == entry["id"]
    assert entry["result"] == "ok" and entry["backup"] == str(files[0])
    assert entry["cookies"]["fr"]["changed"] == ["django_language"]


def test_concurrent_edit_is_detected_and_nothing_written(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    sim.faults.arm({"concurrent_edit": {"slug": SLUG, "after_reads": 1}})
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2
    assert "the page changed since the plan was made" in result.err
    assert f"(edited by someone.else at {_page(sim)['updated_at']})" in result.err
    assert _puts(sim) == 0
    assert "Modifié par quelqu'un d'autre" in _page(sim)["content"]["html"]["fr"]


@pytest.mark.parametrize("status", [503, 429])
def test_busy_portal_on_put_is_retried(cli, project: Path, sim: Simulator, status: int) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    sim.faults.arm(
        {"fail_count": 1, "fail_status": status, "retry_after": "0", "fail_methods": ["PUT"]}
    )
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 0, result.all
    assert _puts(sim) == 2  # the refused one, then the retry once the page proved unchanged
    assert cli("check", "--config", project).code == 0


def test_lost_put_answer_is_recovered_by_reading_back(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    sim.faults.arm({"lose_put_response": 1})
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 0, result.all
    assert "the answer was lost" in result.out and "read back holds the update" in result.out
    assert (
        f"verified: the portal holds the new content (updated_at {_page(sim)['updated_at']})"
        in (result.out)
    )
    assert _puts(sim) == 1  # applied once, not written twice
    assert cli("check", "--config", project).code == 0


def test_wrong_key_and_read_only_key(
    cli, project: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    monkeypatch.setenv("ODS_API_KEY", "not-the-key-123")
    wrong = cli("publish", "--config", project, "--yes")
    assert wrong.code == 2 and "authentication failed (401)" in wrong.err
    assert "not-the-key-123" not in wrong.all
    monkeypatch.setenv("ODS_API_KEY", READ_ONLY_KEY)
    read_only = cli("publish", "--config", project, "--yes")
    assert read_only.code == 2 and "this key may not edit pages (403)" in read_only.err
    assert READ_ONLY_KEY not in read_only.all
    monkeypatch.delenv("ODS_API_KEY")
    missing = cli("publish", "--config", project, "--yes")
    assert missing.code == 2 and "ODS_API_KEY" in missing.err


def test_key_from_dotenv(
    cli, project: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("ODS_API_KEY")
    (project.parent.parent / ".env").write_text(f"ODS_API_KEY={API_KEY}\n")
    _drift(sim)
    try:
        assert cli("sync", "--config", project, "--yes").code == 0
    finally:
        os.environ.pop("ODS_API_KEY", None)


def test_key_is_refused_over_plain_http_to_a_remote_host(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("publish", "--config", project, "--base-url", "http://example.org", "--yes")
    assert result.code == 2 and "only over HTTPS" in result.err
    assert API_KEY not in result.all


@pytest.mark.parametrize(
    ("slug", "message"),
    [("ancienne-charte", "archived"), ("charte-groupe", "pushed by a parent domain")],
)
def test_archived_and_pushed_pages(
    cli, project: Path, sim: Simulator, slug: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    text = project.read_text().replace('slug = "charte-cookies"', f'slug = "{slug}"')
    project.write_text(text.replace('languages = ["fr", "en"]', 'languages = ["fr"]'))
    page = sim.store.page(slug)
    assert page is not None
    page["content"]["html"]["fr"] = page["content"]["html"]["fr"].replace("Opendatasoft", "ODS", 1)
    sim.store.put_raw_page(page)
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2 and message in result.err and _puts(sim) == 0
    if slug == "charte-groupe":
        assert "edit it on the parent domain" in result.err
        assert _puts(sim) == 0


def test_registry_text_is_escaped(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    registry = project.parent / "registry.toml"
    evil = "<script>alert('x')</script> & <b>co</b>"
    registry.write_text(
        registry.read_text().replace(
            'purpose.fr = "Se souvenir de la langue du visiteur"', f'purpose.fr = "{evil}"'
        )
    )
    assert cli("sync", "--config", project, "--yes").code == 0
    html = _page(sim)["content"]["html"]["fr"]
    assert "<script>" not in html
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;" in html
    assert cli("check", "--config", project).code == 0


def test_rollback_restores_the_exact_bytes(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    before = _page(sim)
    backups = project.parent / "bk"
    assert cli("sync", "--config", project, "--yes", "--backup-dir", backups).code == 0
    backup = next(backups.glob("*.json"))
    result = cli("rollback", backup, "--config", project, "--yes", "--backup-dir", backups)
    assert result.code == 0, result.all
    after = _page(sim)
    assert after["content"] == before["content"]
    assert len(list(backups.glob("*.json"))) == 2  # the rollback backed up too
    again = cli("rollback", backup, "--config", project, "--yes")
    assert again.code == 0 and "nothing to change" in again.out


def test_rollback_rejects_a_file_that_is_not_a_backup(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    bogus = project.parent / "bogus.json"
    bogus.write_text('{"page": 1}')
    result = cli("rollback", bogus, "--config", project, "--yes")
    assert result.code == 2 and "not an ods-charter backup" in result.err
    bogus.write_text('{"format": 1, "page": {"content": {"html": {"fr": "x"}, "css": "x"}}}')
    result = cli("rollback", bogus, "--config", project, "--yes")
    assert result.code == 2 and "not an ods-charter backup" in result.err


def test_legal_page_prints_the_html_to_paste(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    text = project.read_text().replace(
        'slug = "charte-cookies"', 'slug = "charte-cookies"\nurl = "/terms/cookies-policy/"'
    )
    project.write_text(text)
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2 and "built-in legal page" in result.err
    assert "<table" in result.out and "cookies_preferences" in result.out


def test_page_without_cookie_table_is_refused(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    page = _page(sim)
    page["content"]["html"]["fr"] = "<p>Plus de tableau</p>"
    sim.store.put_raw_page(page)
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2 and "no cookie table" in result.err and _puts(sim) == 0


def test_the_key_never_appears_in_output_or_files(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    outputs = [
        cli("sync", "--config", project, "--yes", "--backup-dir", project.parent / "bk"),
        cli("check", "--config", project, "--format", "json"),
    ]
    sim.faults.arm({"concurrent_edit": {"slug": SLUG, "after_reads": 1}})
    edit_charter(sim, "fr", "Opendatasoft", "ODS")
    outputs.append(cli("publish", "--config", project, "--yes"))
    for result in outputs:
        assert API_KEY not in result.all
    for path in project.parent.parent.rglob("*"):
        if path.is_file() and path.name != ".env":
            assert API_KEY.encode() not in path.read_bytes(), path
    assert API_KEY not in json.dumps(sim.requests)


def test_verify_live_checks_the_public_page_after_the_write(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    result = cli("publish", "--config", project, "--yes", "--verify-live")
    assert result.code == 0, result.all
    assert "verified" in result.out and "shows the API copy (fr, en)" in result.out
    public = [r for r in sim.requests if r["path"] == "/pages/charte-cookies/"]
    assert {r["query"] for r in public} == {"flg=fr", "flg=en"}


def test_a_cookie_with_no_section_on_the_page_is_flagged_not_hidden(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    registry = project.parent / "registry.toml"
    registry.write_text(
        registry.read_text()
        + '\n[[cookies]]\nname = "_pk_id*"\nprovider = "Matomo"\ncategory = "statistics"\n'
        'lifetime_days = 390\npurpose.fr = "Mesure d\'audience"\npurpose.en = "Audience"\n'
    )
    result = cli("sync", "--config", project, "--yes")
    # Never published under the page's only heading ("nécessaires"): refused, by name.
    assert result.code == 2 and "_pk_id*: the page has no statistics section" in result.err


def test_the_plan_lists_a_drifted_language_after_one_in_sync(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    edit_charter(sim, "en", "Retrieve data through API calls", "Get data")
    result = cli("publish", "--config", project, "--dry-run")
    assert "  [fr] already matches the registry: left as it is\n" in result.out
    assert "  [en] change csrftoken purpose\n" in result.out
    assert "--- charte-cookies [fr] now" not in result.out  # nothing to show for French


def test_an_edit_that_keeps_updated_at_is_still_seen(project: Path, sim: Simulator) -> None:
    """Some editors save without moving updated_at: the content is compared too."""
    _drift(sim)
    config = load_config(project)
    client = AutomationClient(sim.base_url, API_KEY, Transport(config.http))
    plan = plan_publish(client, config, load_registry(config.registry_path))
    edit_charter(sim, "en", "Opendatasoft", "ODS")  # same updated_at, other content
    with pytest.raises(ConcurrentEditError, match="the page changed since the plan was made"):
        execute(client, plan)
    assert _puts(sim) == 0


def test_the_audit_lines_and_the_backup_say_what_was_done(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    edit_charter(sim, "fr", "Se souvenir de la langue du visiteur", "Langue")
    assert cli("publish", "--config", project, "--yes").code == 0
    state = project.parent.parent / ".ods-charter"
    started, completed = (json.loads(x) for x in (state / "audit.jsonl").read_text().splitlines())
    (backup,) = (state / "backups").iterdir()
    expected = {
        "action": "publish",
        "portal": sim.base_url,
        "slug": SLUG,
        "languages": ["fr"],
        "cookies": {"fr": {"added": [], "removed": [], "changed": ["django_language"]}},
        "backup": str(backup.relative_to(project.parent.parent)),
    }
    assert {k: started[k] for k in expected} == expected and started["event"] == "started"
    assert {k: completed[k] for k in expected} == expected
    assert completed["event"] == "completed" and completed["result"] == "ok"
    for entry in (started, completed):  # when, in UTC
        assert datetime.fromisoformat(entry["time"]).utcoffset() == timedelta(0)
    assert completed["updated_at"] == _page(sim)["updated_at"]
    saved = json.loads(backup.read_text())
    assert saved["reason"] == "publish" and saved["portal"] == sim.base_url
    assert saved["slug"] == SLUG


def test_a_busy_answer_is_waited_out_as_the_portal_asks(project: Path, sim: Simulator) -> None:
    _drift(sim)
    config = load_config(project)
    slept: list[float] = []
    client = AutomationClient(sim.base_url, API_KEY, Transport(config.http, sleep=slept.append))
    plan = plan_publish(client, config, load_registry(config.registry_path))
    sim.faults.arm(
        {"fail_count": 1, "fail_status": 429, "retry_after": "7", "fail_methods": ["PUT"]}
    )
    log = project.parent / "logs" / "portal" / "audit.jsonl"  # folders made as needed
    outcome = execute(client, plan, backup_dir=project.parent / "bk", audit_log=log)
    assert slept == [7.0] and _puts(sim) == 2
    # What the library tells its caller: written, where the backup is, the page now.
    assert outcome.plan is plan and outcome.written is True
    assert outcome.backup is not None and outcome.backup.parent == project.parent / "bk"
    assert outcome.page == _page(sim)
    assert [json.loads(line)["event"] for line in log.read_text().splitlines()] == [
        "started",
        "completed",
    ]
