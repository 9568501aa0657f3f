"""Less travelled paths a user can still reach: each with what they would see."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from email.utils import formatdate
from pathlib import Path

import pytest
import requests

from ods_charter.diff import Change, CheckResult, LanguageDiff
from ods_charter.errors import PortalError
from ods_charter.portal import AutomationClient
from ods_charter.reports import render
from ods_charter.reports.build import from_check
from ods_charter.simulator import Simulator
from ods_charter.transport import Transport, retry_after

from .conftest import API_KEY, ROOT, STAR_PAGE, publish_at_a_terminal


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after("12") == 12
    later = retry_after(formatdate(time.time() + 60, usegmt=True))
    assert later is not None and 55 < later <= 60
    assert retry_after("soon") is None and retry_after(None) is None


def test_report_formats_show_errors() -> None:
    result = CheckResult(
        page="https://x.org/pages/c/",
        languages={
            "fr": LanguageDiff(error="the portal answered 500"),
            "en": LanguageDiff(
                missing=["a"], extra=["b"], changed=[Change("c", "purpose", "old|x", "new")]
            ),
        },
    )
    assert result.status == "error" and result.exit_code == 2
    report = from_check(result)
    assert "error: the portal answered 500" in render(report, "text")
    github = render(report, "github")
    assert "::error title=Could not check (fr)::error: the portal answered 500" in github
    markdown = render(report, "markdown")
    assert "❌" in markdown and "error: the portal answered 500" in markdown
    assert "`b`" in markdown and "~~old\\|x~~" in markdown
    junit = ET.fromstring(render(report, "junit"))
    errors = junit.findall(".//testcase/error")
    assert [e.get("message") for e in errors] == ["error: the portal answered 500"]
    assert "b" in [c.get("name") for c in junit.iter("testcase")]


def test_portal_error_messages(sim: Simulator) -> None:
    client = AutomationClient(sim.base_url, API_KEY, Transport())
    sim.faults.arm({"fail_count": 10, "fail_status": 500})
    client.transport.settings = client.transport.settings.__class__(retries=0)
    with pytest.raises(PortalError, match="answered 500 service_unavailable"):
        client.get_page("charte-cookies")
    sim.faults.clear()
    with pytest.raises(PortalError, match="no code editor page with slug 'nope'"):
        client.get_page("nope")


def test_fetch_to_stdout_and_parse_from_url(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    fetched = cli("fetch", "--config", project)
    assert fetched.code == 0
    parsed = cli("parse", "--config", project, "--url", "/pages/charte-cookies/", "--lang", "en")
    assert parsed.code == 0
    assert json.loads(parsed.out)["cookies"][0]["purpose"].startswith("Remember the user")
    imported = cli("import", "--config", project, "--lang", "en", "--output", "r.toml", "--force")
    assert imported.code == 0 and Path("r.toml").read_text().count("[[cookies]]") == 4
    both = cli("import", "--file", STAR_PAGE, "--output", "r.toml", "--merge", "--force")
    assert both.code == 2 and "exclude each other" in both.err


def test_validate_catches_languages_missing_from_the_registry(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "portal.toml"
    config.write_text(
        '[portal]\nbase_url = "https://x.org"\n[page]\nslug = "s"\nlanguages = ["de"]\n'
        f'[registry]\npath = "{ROOT / "config" / "registry.toml"}"\n'
    )
    result = cli("validate", "--config", config)
    assert result.code == 2 and "['de']" in result.err


def test_simulator_admin_area(sim: Simulator) -> None:
    admin = sim.base_url + "/__simulator__/"
    assert requests.get(admin + "health").json() == {"status": "ok"}
    assert "charte-cookies" in requests.get(admin + "state").json()["pages"]
    assert requests.post(admin + "cookies", json=["a=1; Path=/"]).status_code == 200
    assert "a=1" in requests.get(sim.base_url + "/").headers["Set-Cookie"]
    assert requests.post(admin + "cookies", json={"a": 1}).status_code == 400
    assert requests.post(admin + "cookies", data=b"{").status_code == 400
    page = sim.store.page("accueil")
    assert page is not None
    page["title"] = {"fr": "Nouvel accueil"}
    assert requests.put(admin + "pages/accueil", json=page).status_code == 200
    assert sim.store.page("accueil")["title"] == {"fr": "Nouvel accueil"}  # type: ignore[index]
    assert requests.put(admin + "pages/x", json={"slug": "../x"}).status_code == 400
    assert requests.put(admin + "pages/x", data=b"{").status_code == 400
    assert requests.get(admin + "nothing").status_code == 404
    assert requests.get(admin + "faults").json()["fail_count"] == 0
    assert requests.delete(admin + "faults").status_code == 200
    assert requests.delete(admin + "requests").status_code == 200
    assert requests.get(admin + "requests").json() == []


@pytest.mark.off_contract  # bad requests on purpose: only the answers are checked
def test_simulator_api_edges(sim: Simulator) -> None:
    api = sim.base_url + "/api/automation/v1.0/code_editor_pages/"
    auth = {"Authorization": f"apikey {API_KEY}"}
    assert requests.delete(api + "accueil/", headers=auth).status_code == 405
    assert requests.post(api, headers=auth).status_code == 405
    assert requests.get(api, params={"limit": "many"}, headers=auth).status_code == 400
    assert requests.put(api + "ghost/", json={"content": {}}, headers=auth).status_code == 404
    bad_length = requests.put(
        api + "accueil/",
        data=b"{}",
        headers={**auth, "Content-Type": "application/json", "Content-Length": "abc"},
    )
    assert bad_length.status_code == 400
    legal_en = requests.get(sim.base_url + "/terms/cookies-policy/", params={"flg": "en"})
    assert legal_en.status_code == 200  # falls back to the language it has
    assert requests.get(sim.base_url + "/login/").status_code == 200


def test_simulator_command_serves_until_stopped(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "ods-charter"
    proc = subprocess.Popen(
        [str(exe), "simulator", "--port", "0", "--state", str(tmp_path), "--api-key", API_KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        base = line.split(" on ")[1].split(" ")[0]
        assert requests.get(base + "/pages/charte-cookies/", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert (tmp_path / "state.json").is_file()
    assert API_KEY not in line


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ods_charter", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "ods-charter" in out or "Usage" in out


def test_sync_declined_on_a_terminal_writes_nothing(project: Path, sim: Simulator) -> None:
    """A person at a terminal answering no: exit 1, no write (tmux-free: a pty)."""
    page = sim.store.page("charte-cookies")
    assert page is not None
    page["content"]["html"]["fr"] = page["content"]["html"]["fr"].replace("Opendatasoft", "ODS", 1)
    sim.store.put_raw_page(page)
    code, output = publish_at_a_terminal(project, b"n\n")
    assert code == 1
    assert b"Write these changes to" in output and b"nothing written" in output
    assert not any(r["method"] == "PUT" for r in sim.requests)


def test_unwritable_output_is_a_clear_error(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = cli(
        "check",
        "--config",
        ROOT / "config" / "portal.toml",
        "--file",
        STAR_PAGE,
        "-o",
        blocker / "report.txt",
    )
    assert result.code == 2 and "Traceback" not in result.all
    assert str(blocker) in result.err


def test_simulator_command_refuses_a_taken_port(cli, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    port = sim.base_url.rsplit(":", 1)[1]
    result = cli("simulator", "--port", port, "--api-key", "k" * 12)
    assert result.code == 2 and "Address already in use" in result.err
    assert "k" * 12 not in result.all
