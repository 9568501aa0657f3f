"""Start-up: ``ods-charter check --file`` on the STAR page against the same
library calls behind a bare argparse script (``benchmarks/bare_check.py``).
The difference is what the CLI framework costs. Target: <= 1.5x."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.synthetic import ROOT, STAR_PAGE
from benchmarks.timing import interleaved, load, ratios, spread

RUNS = 11


def _timed(args: list[str]) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - start

    return run


def main() -> None:
    python = sys.executable
    cases = {
        "python -c pass (interpreter floor)": _timed([python, "-P", "-c", "pass"]),
        "bare argparse, same calls (baseline)": _timed(
            [python, str(Path(__file__).with_name("bare_check.py")), "--file", str(STAR_PAGE)]
        ),
        "ods-charter check --file": _timed(
            [str(Path(python).parent / "ods-charter"), "check", "--file", str(STAR_PAGE)]
        ),
    }
    print(f"cli: check --file on the STAR page vs a bare argparse script; {RUNS} runs, in turn")
    print(f"  {load()}")
    figures = interleaved(RUNS, cases)
    for name, seconds in figures.items():
        print(f"  {name:<40} {spread(seconds, ' ms', 1000)}  (min / median / max)")
    names = list(cases)
    print(
        f"  => check --file / baseline: {spread(ratios(figures[names[2]], figures[names[1]]))}"
        "  (target <= 1.5x)"
    )
    print(f"  {load()}")
