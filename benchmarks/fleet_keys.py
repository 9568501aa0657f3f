"""A fleet with one key per portal: ``check --source api`` over 200 simulated
portals, each with its own key in its own variable and 50 ms of added latency.

Baselines, run side by side in the same farm: the ideal wall time
(N x 50 ms / jobs) and the keyless public-page check. Target: within 1.5x the
ideal, as for the keyless fleet."""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from ods_charter.simulator import Simulator

LATENCY = 0.05
JOBS = 20
PORTALS = 200
RUNS = 5
REGISTRY = Path(__file__).resolve().parent.parent / "config" / "registry.toml"

# The client runs in its own process, as a user's command would.
WORKER = """
import json, sys, time
from pathlib import Path
from ods_charter.fleet import api_check_task, check_task, run_fleet
task = api_check_task if sys.argv[1] == "api" else check_task
paths = [Path(p) for p in sys.argv[3:]]
start = time.perf_counter()
res = run_fleet(paths, task, jobs=int(sys.argv[2]))
print(json.dumps({"fleet": time.perf_counter() - start,
                  "errors": [r.error for r in res if r.status == "error"][:3]}))
"""


def _farm(root: Path) -> tuple[list[Simulator], list[Path], dict[str, str]]:
    sims, configs, keys = [], [], {}
    for i in range(PORTALS):
        key = secrets.token_hex(16)
        sim = Simulator(state_dir=root / f"sim{i}", api_key=key).start()
        sim.faults.arm({"latency": LATENCY})
        keys[f"ODS_API_KEY_P{i}"] = key
        config = root / f"portal{i}.toml"
        config.write_text(
            f'[portal]\nname = "portal {i}"\nbase_url = "{sim.base_url}"\n'
            f'api_key_env = "ODS_API_KEY_P{i}"\n'
            f'[page]\nslug = "charte-cookies"\nlanguages = ["fr"]\n'
            f'[registry]\npath = "{REGISTRY}"\n'
        )
        sims.append(sim)
        configs.append(config)
    return sims, configs, keys


def _run(mode: str, configs: list[Path], keys: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", WORKER, mode, str(JOBS), *map(str, configs)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **keys},
    ).stdout
    figures = json.loads(out)
    assert not figures["errors"], figures["errors"]
    return float(figures["fleet"])


def main() -> None:
    ideal = PORTALS * LATENCY / JOBS
    print(
        f"fleet with one key per portal: {PORTALS} portals, --jobs {JOBS}, "
        f"{LATENCY * 1000:.0f} ms each, {RUNS} runs of each, alternated"
    )
    times: dict[str, list[float]] = {"api": [], "public": []}
    with tempfile.TemporaryDirectory(prefix="ods-bench-keys-") as tmp:
        sims, configs, keys = _farm(Path(tmp))
        try:
            for _ in range(RUNS):
                for mode in times:
                    times[mode].append(_run(mode, configs, keys))
        finally:
            for sim in sims:
                sim.stop()
    labels = {"api": "check --source api (own keys)", "public": "check, public page (no key)"}
    for mode, runs in times.items():
        low, mid, high = min(runs), statistics.median(runs), max(runs)
        print(
            f"  {labels[mode]:<32} min {low * 1000:5.0f} / median {mid * 1000:5.0f} / "
            f"max {high * 1000:5.0f} ms   median {mid / ideal:.2f}x ideal ({ideal * 1000:.0f} ms)"
        )
    ratio = statistics.median(times["api"]) / statistics.median(times["public"])
    print(f"  keyed API check / keyless public check (medians): {ratio:.2f}x")
