"""The write path against the simulator, over real HTTP: safety is the feature."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from ods_charter.demo import outside_tables
from ods_charter.html.parse import parse_cookies
from ods_charter.simulator import Simulator

from .conftest import API_KEY, READ_ONLY_KEY, edit_charter

SLUG = "charte-cookies"


def _page(sim: Simulator) -> dict:  # type: ignore[type-arg]
    page = sim.store.page(SLUG)
    assert page is not None
    return page


def _puts(sim: Simulator) -> int:
    return sum(1 for r in sim.requests if r["method"] == "PUT")


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
    assert cli("publish", "--config", project, "--dry-run").code == 0
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
    files = list(backups.glob("charte-cookies-*.json"))
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600
    assert json.loads(files[0].read_text())["page"] == before
    audit = (project.parent.parent / ".ods-charter" / "audit.jsonl").read_text().splitlines()
    entry = json.loads(audit[-1])
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
    assert "someone.else" in result.err
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
    assert "verified" in result.out
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
        forced = cli("publish", "--config", project, "--yes", "--force")
        assert forced.code == 2 and _puts(sim) == 0  # no way around it


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
