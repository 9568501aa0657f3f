"""Wall time of ``ods-charter check --file`` on the STAR page, against the bare
``python -c "import ods_charter"`` (target: check under 0.4 s)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from benchmarks.synthetic import ROOT, STAR_PAGE
from benchmarks.timing import row


def _wall(args: list[str], runs: int = 7) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, cwd=ROOT, check=False, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    exe = str(Path(sys.executable).parent / "ods-charter")
    print("cli: wall time, best of 7 (target: check --file under 400 ms)")
    bare = _wall([sys.executable, "-c", "import ods_charter"])
    check = _wall([exe, "check", "--file", str(STAR_PAGE)])
    print(row('python -c "import ods_charter" (baseline)', bare))
    print(row("ods-charter check --file star page", check, bare, "of the import"))
