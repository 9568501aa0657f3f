"""Reports people look at: the CI workflow, the HTML report in a real browser."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from ods_charter.browser import CHROMIUM_FLAGS
from ods_charter.cli import app
from ods_charter.simulator import Simulator

from .conftest import ROOT, STAR_PAGE, edit_charter, write_config

WORKFLOW = ROOT / ".github" / "workflows" / "charter-drift.yml"
CONFIG = ROOT / "config" / "portal.toml"


def _workflow_runs() -> str:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["check"]["steps"]
    return "\n".join(step.get("run", "") for step in steps)


def _ods_commands(text: str) -> list[list[str]]:
    commands = []
    for line in text.splitlines():
        line = line.split("||")[0].strip()
        if line.startswith("ods-charter "):
            commands.append(shlex.split(line)[1:])
    return commands


def test_workflow_parses_and_runs_real_commands() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key "on" as True
    assert {"schedule", "push", "workflow_dispatch"} <= set(triggers)
    assert triggers["push"]["paths"] == ["config/**"]
    steps = workflow["jobs"]["check"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "GITHUB_STEP_SUMMARY" in runs
    assert any(step.get("uses", "").startswith("actions/upload-artifact") for step in steps)
    known = {c.name or c.callback.__name__ for c in app.registered_commands}  # type: ignore[union-attr]
    commands = _ods_commands(runs)
    assert len(commands) >= 4
    for args in commands:
        assert args[0] in known, args


@pytest.mark.parametrize("args", _ods_commands(_workflow_runs()))
def test_each_workflow_command_accepts_its_options(cli, args: list[str], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Run offline against the saved STAR page: only option parsing is at stake.
    argv = [str(tmp_path / "out") if a == "$GITHUB_STEP_SUMMARY" else a for a in args]
    argv = [str(tmp_path / a) if a.endswith(".html") else a for a in argv]
    if argv[0] == "check":
        argv += ["--file", str(STAR_PAGE)]
    result = cli(*argv, "--config", CONFIG)
    assert "No such option" not in result.err and result.code in {0, 1}, result.all


def _report(cli, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    page = tmp_path / "page.html"
    text = STAR_PAGE.read_text().replace("Récupérer des données", "Récupérer vos &lt;données&gt;")
    start = text.index("<tr>", text.index("Choix concernant") - 200)
    end = text.index("</tr>", start) + 5
    page.write_text(text[:start] + text[end:])
    out = tmp_path / "report.html"
    result = cli("check", "--config", CONFIG, "--file", page, "--format", "html", "-o", out)
    assert result.code == 1
    return out


def test_html_report_is_self_contained(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    html = _report(cli, tmp_path).read_text()
    assert "<link" not in html and "src=" not in html and "http" not in html.split("</style>")[0]
    assert '<tr class="missing">' in html and "cookies_preferences" in html
    assert '<tr class="changed">' in html
    assert "Récupérer <del>des</del><ins>vos</ins> <ins>&lt;</ins>données<ins>&gt;</ins>" in html


@pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("chromium-browser")),
    reason="no Chromium installed (apt-get install chromium) to render the report",
)
def test_html_report_renders_in_a_real_browser(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = _report(cli, tmp_path)
    shot = tmp_path / "report.png"
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    subprocess.run(
        [
            str(browser),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1200,900",
            report.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000  # a page was drawn, not a blank


LINT_REGISTRY = (
    'schema_version = 1\nlanguages = ["fr"]\n[[cookies]]\nname = "_pk_<id>"\nprovider = "Matomo"\n'
    'category = "statistics"\npurpose.fr = "Mesure d\'audience"\nlifetime_days = 500\n'
)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "github", "junit", "html"])
def test_lint_speaks_every_report_format(cli, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    registry = tmp_path / "registry.toml"
    registry.write_text(LINT_REGISTRY, encoding="utf-8")
    out = tmp_path / f"lint.{fmt}"
    result = cli("lint", "--registry", registry, "--format", fmt, "-o", out)
    assert result.code == 1 and result.out == ""  # the report went to the file
    text = out.read_text(encoding="utf-8")
    assert "lifetime-over-13-months" in text
    if fmt == "junit":
        case = ET.parse(out).getroot().find(".//testcase")
        assert case is not None and case.get("name") == "_pk_<id>"
        assert case.find("failure") is not None
    elif fmt == "html":
        assert "<td>_pk_&lt;id&gt;</td>" in text and "status-findings" in text
    elif fmt == "github":
        assert text.startswith("::error title=lifetime-over-13-months")
    elif fmt == "json":
        assert json.loads(text)["status"] == "findings"
    else:
        assert "_pk_<id>" in text


@pytest.mark.parametrize("fmt", ["text", "markdown", "github", "junit", "html"])
def test_fleet_reports_keep_their_columns(cli, tmp_path: Path, sim: Simulator, fmt: str) -> None:  # type: ignore[no-untyped-def]
    configs = [write_config(tmp_path / f"p{i}", sim.base_url, name=f"p{i}") for i in range(2)]
    args = [a for c in configs for a in ("--config", str(c))]
    edit_charter(sim, "fr", "Se souvenir de la langue du visiteur", "Langue")
    result = cli("check", *args, "--format", fmt)
    assert result.code == 1
    if fmt == "junit":
        suites = ET.fromstring(result.out).findall("testsuite")
        assert [s.get("failures") for s in suites] == ["1", "1"]
    elif fmt == "html":
        assert "<th>missing</th><th>extra</th><th>changed</th>" in result.out
    else:
        assert "p0" in result.out and "drift" in result.out


def test_a_scan_report_and_a_fleet_table_list_the_kinds_in_one_order() -> None:
    """The one-portal sections and the fleet columns both read most severe first."""
    from ods_charter.reports.build import SCAN_HEADINGS
    from ods_charter.scan import ERRORS, FINDING_KINDS, INFORMATION

    assert list(SCAN_HEADINGS) == [*FINDING_KINDS, "local_storage"]
    severity = [0 if k in ERRORS else 2 if k in INFORMATION else 1 for k in FINDING_KINDS]
    assert severity == sorted(severity)
