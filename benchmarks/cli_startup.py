"""Start-up: ``ods-charter check --file`` on the STAR page against the same
library calls behind a bare argparse script (``benchmarks/bare_check.py``).
The difference is what the CLI framework costs. Target: <= 1.5x.

Wall time and CPU time (user + system of the child) are both reported: on a
shared machine CPU time moves far less with the load than wall time does."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.synthetic import ROOT, STAR_PAGE
from benchmarks.timing import interleaved, load, ratios, spread

RUNS = 11


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(args: list[str], cpu: dict[str, list[float]], name: str) -> Callable[[], float]:
    def run() -> float:
        before, start = _children_cpu(), time.perf_counter()
        subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
        wall = time.perf_counter() - start
        cpu.setdefault(name, []).append(_children_cpu() - before)
        return wall

    return run


def main() -> None:
    python = sys.executable
    commands = {
        "python -c pass (interpreter floor)": [python, "-P", "-c", "pass"],
        "python -c 'import typer' (the framework)": [python, "-P", "-c", "import typer"],
        "bare argparse, same calls (baseline)": [
            python,
            str(Path(__file__).with_name("bare_check.py")),
            "--file",
            str(STAR_PAGE),
        ],
        "ods-charter check --file": [
            str(Path(python).parent / "ods-charter"),
            "check",
            "--file",
            str(STAR_PAGE),
        ],
    }
    cpu: dict[str, list[float]] = {}
    cases = {name: _timed(args, cpu, name) for name, args in commands.items()}
    print(f"cli: check --file on the STAR page vs a bare argparse script; {RUNS} runs, in turn")
    print(f"  {load()}")
    wall = interleaved(RUNS, cases)
    _, _, base, ours = commands
    for label, figures in (("wall", wall), ("CPU", cpu)):
        for name in commands:
            print(f"  {label:>4} {name:<44} {spread(figures[name], ' ms', 1000)}")
    for label, figures in (("wall", wall), ("CPU", cpu)):
        print(
            f"  => {label} check --file / baseline: {spread(ratios(figures[ours], figures[base]))}"
            "  (min / median / max; target <= 1.5x)"
        )
    print(f"  {load()}")
