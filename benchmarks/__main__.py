"""Run every benchmark and print figures with ratios against named baselines.

python3 dev.py bench            # all, on a regular install in .venv-bench
python3 dev.py bench parse      # one: parse | shapes | cli | fleet | tls | keys
"""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path

import ods_charter

SUITES = {
    "parse": "parse_speed",
    "shapes": "parse_shapes",
    "cli": "cli_startup",
    "fleet": "fleet",
    "tls": "tls",
    "keys": "fleet_keys",
}


def main() -> None:
    chosen = sys.argv[1:] or list(SUITES)
    unknown = [name for name in chosen if name not in SUITES]
    if unknown:
        sys.exit(f"unknown benchmark(s) {unknown}; choose from {list(SUITES)}")
    where = Path(ods_charter.__file__).parent
    editable = where.parent == Path(__file__).resolve().parent.parent
    print(f"ods-charter from {where}" + (" (the source tree: figures are not a user's)" * editable))
    for name in chosen:
        import_module(f"benchmarks.{SUITES[name]}").main()
        print()


main()
