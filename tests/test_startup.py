"""Start-up stays light: `check --file` loads only what it uses.

The time itself is measured in benchmarks/cli_startup.py; here we guard the
cause, module by module, in a fresh interpreter as a user would start it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from ods_charter import cli as cli_module
from ods_charter.cli import app

ROOT = Path(__file__).resolve().parent.parent
STAR_PAGE = ROOT / "tests" / "fixtures" / "pages" / "star-charte-cookies.html"

# Run the CLI, then report which modules the run imported.
_WRAPPER = """
import json, sys
from ods_charter.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""

# Modules that `check --file` in text format has no use for.
UNUSED = (
    "requests",  # no network: the page is a file
    "urllib3",
    "http.client",
    "ods_charter.fleet",  # one portal
    "ods_charter.transport",
    "concurrent.futures.process",
    "multiprocessing",
    "ods_charter.reports.html",  # other report formats
    "xml.etree.ElementTree",
    "pydantic",  # pulled in at start-up by typer 0.29
    "rich",  # typer's pretty help, not used
)


def _imported(*args: str) -> tuple[int, set[str], str]:
    run = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(run.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"]), run.stdout


def test_check_file_imports_only_what_it_uses() -> None:
    code, modules, out = _imported("check", "--file", str(STAR_PAGE))
    assert code == 0 and "in sync" in out
    assert "ods_charter.html.parse" in modules  # it did parse the page
    assert sorted(m for m in UNUSED if m in modules) == []


def test_other_report_formats_are_imported_when_asked_for() -> None:
    # The same wrapper sees the formats' imports when they are used: the
    # absence above is not a blind spot of the wrapper.
    _, junit, out = _imported("check", "--file", str(STAR_PAGE), "--format", "junit")
    assert "<testsuites " in out and "xml.etree.ElementTree" in junit
    _, html, _ = _imported("check", "--file", str(STAR_PAGE), "--format", "html")
    assert "ods_charter.reports.html" in html


# -- only the command being run is built ----------------------------------------
# typer builds a click Command for every command of the app, each option
# converted, at every start; `main` builds only the one named. What a user sees
# must not change: the reference is typer's own build of the whole app.


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the commands typer builds during the test (the real builder runs)."""
    names: list[str] = []
    build = typer.main.get_command_from_info

    def spy(command_info: Any, **kwargs: Any) -> Any:
        command = build(command_info, **kwargs)
        names.append(command.name)
        return command

    monkeypatch.setattr(typer.main, "get_command_from_info", spy)
    return names


def test_check_file_builds_check_alone(cli, built: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = cli("-q", "check", "--file", STAR_PAGE)
    assert result.code == 0
    assert built == ["check"]


def test_help_still_lists_every_command_in_order(cli) -> None:  # type: ignore[no-untyped-def]
    listed = cli("--help").out.split("Commands:\n", 1)[1]
    names = [line.split()[0] for line in listed.splitlines() if line.startswith("  ")]
    assert names == list(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert len(names) >= 16 and "import" in names  # a command named apart from its function


def test_a_global_option_before_the_command_still_applies(cli) -> None:  # type: ignore[no-untyped-def]
    colour = cli("--color", "always", "check", "--file", STAR_PAGE)
    assert colour.code == 0 and "\033[32min sync" in colour.out
    assert cli("--quiet", "check", "--file", STAR_PAGE).out == ""
    assert "\033[" not in cli("check", "--file", STAR_PAGE).out


def test_a_mistyped_command_is_a_usage_error_with_a_suggestion(cli) -> None:  # type: ignore[no-untyped-def]
    for args in (("chek",), ("-q", "chek", "--file", STAR_PAGE)):
        result = cli(*args)
        assert result.code == 2
        assert "No such command 'chek'. Did you mean 'check'?" in result.err


# What users type, including every path that lists, resolves or completes commands.
SAME_AS_TYPER = [
    [],
    ["--help"],
    ["-h"],
    ["--help", "check"],
    ["--version"],
    ["check", "--help"],
    ["import", "-h"],
    ["check", "--bogus"],
    ["--color", "purple", "check"],
    ["--color"],
    ["chek"],
    ["rollbak", "--list"],
    ["-q", "check", "--file", str(STAR_PAGE)],
    ["--color", "always", "check", "--file", str(STAR_PAGE), "--format", "json"],
]


@pytest.mark.parametrize("args", SAME_AS_TYPER, ids=" ".join)
def test_what_users_see_is_what_typer_builds(cli, monkeypatch, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    ours = cli(*args)
    monkeypatch.setattr(cli_module, "_group", lambda: typer.main.get_command(app))
    assert ours == cli(*args)


@pytest.mark.parametrize(
    "words", ["ods-charter ", "ods-charter ch", "ods-charter -q check --f", "ods-charter --co"]
)
def test_shell_completion_is_what_typer_builds(cli, monkeypatch, words: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("_ODS_CHARTER_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(len(words.split()) - (not words.endswith(" "))))
    ours = cli()
    assert ours.code == 0 and ours.out.strip()
    monkeypatch.setattr(cli_module, "_group", lambda: typer.main.get_command(app))
    assert ours == cli()
