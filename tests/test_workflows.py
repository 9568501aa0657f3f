"""The loop in git: the workflow files parse, use only commands and options that
exist, keep write permissions and the key where they belong, and their shell
steps do what they promise when run for real on this machine."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from ods_charter.cli import app
from ods_charter.simulator import Simulator

from .conftest import ROOT, write_config
from .test_consent_scan import browser

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
LOOP = ROOT / ".github" / "workflows" / "charter-loop.yml"
SYNC = ROOT / ".github" / "workflows" / "charter-sync.yml"
BIN = Path(sys.executable).parent  # where pip put the ods-charter command


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _step(workflow: dict[str, Any], job: str, name: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = workflow["jobs"][job]["steps"]
    return next(s for s in steps if s.get("name") == name or s.get("id") == name)


def _invocations(shell: str) -> list[list[str]]:
    """The arguments of every ``ods-charter`` call in some shell text."""
    found = []
    for line in shell.splitlines():
        if "ods-charter " not in line or line.lstrip().startswith("#"):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
        for i, word in enumerate(words):
            if word != "ods-charter":
                continue
            args = []
            for arg in words[i + 1 :]:  # up to the first |, ||, &&, ;, > ...
                if set(arg) <= set("();<>|&"):
                    break
                args.append(arg)
            found.append(args)
    return found


def _command_lines(path: Path) -> list[list[str]]:
    """Every ``ods-charter ...`` invocation in the workflow's shell steps."""
    jobs = _load(path)["jobs"].values()
    return [a for job in jobs for step in job["steps"] for a in _invocations(step.get("run", ""))]


def _gitlab_lines() -> list[list[str]]:
    """... and in the GitLab CI jobs the README shows."""
    found = []
    for block in re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.S):
        for job in yaml.safe_load(block).values():
            for key in ("script", "after_script"):
                found += [a for line in job.get(key, []) for a in _invocations(line)]
    return found


def test_workflows_parse_and_have_jobs() -> None:
    assert {p.name for p in WORKFLOWS} >= {"charter-loop.yml", "charter-sync.yml"}
    for path in WORKFLOWS:
        workflow = _load(path)
        assert workflow["jobs"] and workflow[True], path  # YAML 1.1 reads "on" as True


@pytest.mark.parametrize("path", [*WORKFLOWS, ROOT / "README.md"], ids=lambda p: p.name)
def test_every_command_and_option_exists(path: Path) -> None:
    group: Any = typer.main.get_command(app)
    lines = _gitlab_lines() if path.suffix == ".md" else _command_lines(path)
    assert len(lines) >= 3, path
    for args in lines:
        command = group.commands.get(args[0])
        assert command is not None, f"{path.name}: no command {args[0]!r}"
        options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        for token in args[1:]:
            if token.startswith("-"):
                assert token.split("=")[0] in options, f"{path.name}: {args[0]} {token}"


def test_only_the_proposing_job_may_write() -> None:
    loop = _load(LOOP)
    assert loop["permissions"] == {"contents": "read"}
    assert "permissions" not in loop["jobs"]["observe"]
    propose = loop["jobs"]["propose"]
    assert propose["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert propose["if"] == "needs.observe.outputs.findings == 'yes'"
    assert set(loop[True]) == {"schedule", "workflow_dispatch"}
    # The loop never holds the portal's key: check and scan read public pages.
    assert "ODS_API_KEY" not in LOOP.read_text()


def test_sync_runs_on_merge_with_the_key_from_a_protected_environment() -> None:
    sync = _load(SYNC)
    assert sync[True]["push"] == {"branches": ["main"], "paths": ["config/**"]}
    job = sync["jobs"]["sync"]
    assert job["environment"] == "charter-production"
    with_key = [s["name"] for s in job["steps"] if "ODS_API_KEY" in str(s.get("env", {}))]
    assert with_key == [
        "Plan and diff",
        "Publish",
        "Put the page back if the write could not be verified",
    ]
    assert "sync --yes" in _step(sync, "sync", "Publish")["run"]
    summary = _step(sync, "sync", "Job summary")
    assert summary["if"] == "always()" and "GITHUB_STEP_SUMMARY" in summary["run"]
    upload = _step(sync, "sync", "Keep the backup and the audit line")
    assert upload["if"] == "always()"
    assert upload["with"]["path"].split() == ["backups/", ".ods-charter/audit.jsonl"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_expressions_refer_to_steps_and_jobs_that_exist(path: Path) -> None:
    # What actionlint would say first, checked here where actionlint is absent.
    jobs = _load(path)["jobs"]
    for name, job in jobs.items():
        text = yaml.safe_dump(job)
        ids = {s["id"] for s in job["steps"] if "id" in s}
        for step_id in re.findall(r"steps\.([\w-]+)\.", text):
            assert step_id in ids, f"{path.name}: job {name} has no step {step_id}"
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        for other, output in re.findall(r"needs\.([\w-]+)\.outputs\.([\w-]+)", text):
            assert other in needs and output in jobs[other].get("outputs", {}), (path.name, other)


@pytest.mark.skipif(not shutil.which("actionlint"), reason="actionlint is not installed")
def test_actionlint() -> None:  # pragma: no cover - where actionlint exists
    result = subprocess.run(
        ["actionlint", *map(str, WORKFLOWS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env}
    full.pop("ODS_API_KEY", None)
    return subprocess.run(
        ["bash", "-e", "-c", script], cwd=cwd, env=full, capture_output=True, text=True
    )


@browser
def test_observe_step_reports_findings_only_when_there_are(tmp_path: Path) -> None:
    script = _step(_load(LOOP), "observe", "observe")["run"]
    work = tmp_path / "repo"
    env = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "s")}
    with Simulator(state_dir=tmp_path / "clean") as portal:
        write_config(work / "config", portal.base_url)
        clean = _bash(script, work, env)
    assert clean.returncode == 0, clean.stderr
    assert not Path(env["GITHUB_OUTPUT"]).exists()  # no finding, no pull request
    assert "nothing to fix" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()

    with Simulator(state_dir=tmp_path / "tracked", analytics=True) as portal:
        write_config(work / "config", portal.base_url)
        portal.faults.arm({"consent": "before_consent"})
        found = _bash(script, work, env)
    assert found.returncode == 0, found.stderr
    assert Path(env["GITHUB_OUTPUT"]).read_text() == "findings=yes\n"
    findings = (work / "findings.md").read_text()
    assert "ERROR: set before consent" in findings and "_pk_id.1.5f3a" in findings
    assert (work / "scan.har").exists() and (work / "scan.json").exists()

    work = tmp_path / "fresh"  # a fresh checkout: no file left from the runs above
    with Simulator(state_dir=tmp_path / "down") as portal:
        write_config(work / "config", portal.base_url)
    broken = _bash(script, work, env)  # the portal is gone: red, and no pull request
    assert broken.returncode == 2
    assert Path(env["GITHUB_OUTPUT"]).read_text() == "findings=yes\n"  # unchanged


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


# A stand-in for GitHub's CLI: it keeps the repository's open pull requests in a
# file, so the step's own logic (create once, then edit) runs for real.
FAKE_GH = """#!/usr/bin/env bash
state="$GH_STATE"
echo "$*" >> "$state.calls"
case "$1 $2" in
  "pr list") [ -f "$state" ] && cat "$state" || true ;;
  "pr create") echo 7 > "$state" ;;
  "pr edit") [ "$3" = "$(cat "$state")" ] || exit 1 ;;
esac
"""


def test_propose_job_opens_one_pull_request_and_then_updates_it(  # type: ignore[no-untyped-def]
    cli, sim: Simulator, tmp_path: Path
) -> None:
    workflow = _load(LOOP)
    steps = [
        _step(workflow, "propose", name)["run"]
        for name in ("Add the suggested registry entries", "Open or update the pull request")
    ]
    origin, work = tmp_path / "origin.git", tmp_path / "work"
    _git(tmp_path, "init", "-q", "--bare", str(origin))
    _git(tmp_path, "init", "-q", "-b", "main", str(work))
    config = write_config(work / "config", sim.base_url)
    _git(work, "add", ".")
    _git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    _git(work, "remote", "add", "origin", str(origin))
    _git(work, "push", "-q", "origin", "main")
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "gh").write_text(FAKE_GH)
    (tools / "gh").chmod(0o755)
    env = {
        "PATH": os.pathsep.join((str(tools), str(BIN), os.environ["PATH"])),
        "GH_STATE": str(tmp_path / "prs"),
        "BRANCH": "ods-charter/findings",
        "BASE": "main",
        "GH_TOKEN": "token",
    }
    sim.set_cookies(["_hjid=42; Max-Age=31536000; Path=/"])  # an undeclared Hotjar cookie
    for _ in (1, 2):  # the same findings on two days
        _git(work, "checkout", "-q", "main")  # each run starts from a fresh checkout
        (work / "findings").mkdir(exist_ok=True)
        scan = ("scan", "--config", config, "--path", "/")
        assert cli(*scan, "--format", "json", "-o", work / "findings" / "scan.json").code == 1
        assert cli(*scan, "--format", "markdown", "-o", work / "findings" / "findings.md").code == 1
        for script in steps:
            result = subprocess.run(
                ["bash", "-e", "-c", script], cwd=work, env={**os.environ, **env},
                capture_output=True, text=True,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
    calls = (tmp_path / "prs.calls").read_text().splitlines()
    assert [c.split()[1] for c in calls if c.split()[1] in {"create", "edit"}] == ["create", "edit"]
    branch = "ods-charter/findings"
    registry = _git(origin, "show", f"{branch}:config/registry.toml")
    assert registry.count('name = "_hjid"') == 1 and 'provider = "Hotjar"' in registry
    body = _git(origin, "show", f"{branch}:config/charter-findings.md")
    assert (
        "`_hjid`" in body and "Suggested registry entries" in body and 'purpose.fr = "TODO"' in body
    )
    assert _git(origin, "log", "--format=%s", "main") == "start\n"  # main itself untouched


def _sync_steps(work: Path, key: str, summary: Path, *names: str) -> list[int]:
    """Run these steps of the sync job in order, as the runner would, with the key."""
    workflow = _load(SYNC)
    env = {"ODS_API_KEY": key, "GITHUB_STEP_SUMMARY": str(summary)}
    codes = []
    for name in names:
        step = _step(workflow, "sync", name)
        full = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env}
        run = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=work, env=full, check=False)
        codes.append(run.returncode)
    return codes


KEY = "sync-key-4d2"


@pytest.fixture
def merged(tmp_path: Path) -> Iterator[tuple[Simulator, Path]]:
    """A portal, and a checkout of main whose registry a merged pull request changed."""
    work = tmp_path / "repo"
    with Simulator(state_dir=tmp_path / "portal", api_key=KEY) as portal:
        registry = write_config(work / "config", portal.base_url).parent / "registry.toml"
        registry.write_text(
            registry.read_text().replace("d'une page à une autre", "de page en page")
        )
        yield portal, work


def _content(portal: Simulator) -> dict[str, Any]:
    page = portal.store.page("charte-cookies")
    assert page is not None
    content: dict[str, Any] = page["content"]
    return content


def test_sync_job_publishes_and_keeps_the_evidence(
    merged: tuple[Simulator, Path], tmp_path: Path
) -> None:
    portal, work = merged
    summary = tmp_path / "summary.md"
    codes = _sync_steps(work, KEY, summary, "Plan and diff", "Publish", "Job summary")
    assert codes == [0, 0, 0]
    assert "de page en page" in _content(portal)["html"]["fr"]
    assert "de page en page" in (work / "plan.txt").read_text()  # the plan shows the change
    assert "### Charter sync" in summary.read_text() and KEY not in summary.read_text()
    assert len(list((work / "backups").glob("*charte-cookies-*.json"))) == 1
    audit = (work / ".ods-charter" / "audit.jsonl").read_text()
    assert '"result": "ok"' in audit and KEY not in audit


def test_sync_job_failure_leaves_the_page_as_it_was(
    merged: tuple[Simulator, Path], tmp_path: Path
) -> None:
    portal, work = merged
    before = _content(portal)
    portal.faults.arm({"corrupt_put": "html"})  # the portal keeps something else than was sent
    rollback = "Put the page back if the write could not be verified"
    codes = _sync_steps(work, KEY, tmp_path / "summary.md", "Publish", rollback)
    assert codes == [2, 1]  # red
    assert _content(portal) == before
