"""``check --all`` over many simulated portals, each answering with 50 ms of
added latency. Baseline: the ideal wall time N x 50 ms / jobs. Targets: within
1.5x the ideal (plus start-up) with --jobs 20, memory flat from 50 to 400."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ods_charter.simulator import Simulator

LATENCY = 0.05
JOBS = 20
REGISTRY = Path(__file__).resolve().parent.parent / "config" / "registry.toml"


def _farm(count: int, root: Path) -> tuple[list[Simulator], list[Path]]:
    sims, configs = [], []
    for i in range(count):
        sim = Simulator(state_dir=root / f"sim{i}", api_key=None).start()
        sim.faults.arm({"latency": LATENCY})
        sims.append(sim)
        config = root / f"portal{i}.toml"
        config.write_text(
            f'[portal]\nname = "portal {i}"\nbase_url = "{sim.base_url}"\n'
            f'[page]\nslug = "charte-cookies"\nlanguages = ["fr"]\n'
            f'[registry]\npath = "{REGISTRY}"\n'
        )
        configs.append(config)
    return sims, configs


def _client(configs: list[Path]) -> dict[str, float]:
    """Run the fleet check in a fresh process, so its memory is its own."""
    code = (
        "import json, sys, time\n"
        "t0 = time.perf_counter()\n"
        "from pathlib import Path\n"
        "from ods_charter.fleet import check_task, run_fleet, fleet_exit_code\n"
        "import ods_charter.charter, ods_charter.fetch, ods_charter.html.parse  # start-up\n"
        "paths = [Path(p) for p in sys.argv[2:]]\n"
        "t1 = time.perf_counter()\n"
        "res = run_fleet(paths, check_task, jobs=int(sys.argv[1]))\n"
        "t2 = time.perf_counter()\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print(json.dumps({'startup': t1 - t0, 'fleet': t2 - t1,\n"
        "  'maxrss_mb': int(hwm.split()[1]) / 1024,\n"
        "  'exit': fleet_exit_code(res), 'errors': sum(r.status == 'error' for r in res)}))\n"
    )
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, str(JOBS), *map(str, configs)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures: dict[str, float] = json.loads(out)
    figures["wall"] = time.perf_counter() - start
    return figures


def main() -> None:
    print(f"fleet: check --all --jobs {JOBS}, every portal {LATENCY * 1000:.0f} ms slow")
    print(f"  {'portals':>7} {'ideal':>8} {'fleet':>8} {'ratio':>7} {'process':>8} {'max RSS':>9}")
    rss = {}
    for count in (50, 200, 400):
        with tempfile.TemporaryDirectory(prefix="ods-bench-") as tmp:
            sims, configs = _farm(count, Path(tmp))
            try:
                figures = _client(configs)
            finally:
                for sim in sims:
                    sim.stop()
        ideal = count * LATENCY / JOBS
        rss[count] = figures["maxrss_mb"]
        assert figures["errors"] == 0, figures
        print(
            f"  {count:>7} {ideal * 1000:>6.0f}ms {figures['fleet'] * 1000:>6.0f}ms "
            f"{figures['fleet'] / ideal:>6.2f}x {figures['wall'] * 1000:>6.0f}ms "
            f"{figures['maxrss_mb']:>7.1f}MB"
        )
    print(f"  memory 400 vs 50 portals: {rss[400] / rss[50]:.2f}x (flat is 1.0x)")
    print("  (ratio = fleet time / ideal; process = whole client process, start-up included)")
