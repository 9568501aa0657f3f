"""Start-up stays light: `check --file` loads only what it uses.

The time itself is measured in benchmarks/cli_startup.py; here we guard the
cause, module by module, in a fresh interpreter as a user would start it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    "ods_charter.html_report",  # other report formats
    "xml.sax.saxutils",
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
    assert "<testsuites>" in out and "xml.sax.saxutils" in junit
    _, html, _ = _imported("check", "--file", str(STAR_PAGE), "--format", "html")
    assert "ods_charter.html_report" in html
