"""``ods-charter check --all`` over a farm of simulated portals (in processes of
their own), every answer 50 ms late. Baseline: the ideal wall time
N x 50 ms / jobs. Each client run is a fresh ``ods-charter`` process, timed
whole (start-up included). Targets:

- 800 portals over HTTPS, --jobs 20: <= 1.5x the ideal;
- CPU per portal over HTTPS <= 2x over plain HTTP (paired runs);
- 5,000 portals over HTTPS: measured, with peak memory (flat in the portals).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.farm import farm
from benchmarks.timing import interleaved, load, ratios, spread

LATENCY = 0.05
JOBS = 20
RUNS = 5

# Runs the real CLI in this process, then writes what the process used.
_CLIENT = """
import json, resource, sys
out = sys.argv.pop(1)
from ods_charter.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker processes, reaped
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0]
with open(out, "w") as f:
    json.dump({"code": code, "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
               "parent_mb": int(hwm.split()[1]) / 1024, "worker_mb": kids.ru_maxrss / 1024}, f)
"""


def _client(main_config: Path, processes: int | None, results: dict[str, list[float]]) -> float:
    """One ``check --all`` run: returns its wall time; CPU and memory go to results."""
    out = main_config.parent / "client.json"
    args = [sys.executable, "-P", "-c", _CLIENT, str(out), "check", "--all"]
    args += ["--config", str(main_config), "--jobs", str(JOBS), "--format", "json"]
    if processes:
        args += ["--processes", str(processes)]
    start = time.perf_counter()
    run = subprocess.run(args, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    figures = json.loads(out.read_text())
    portals = json.loads(run.stdout)["portals"]
    errors = [p["error"] for p in portals if p["status"] == "error"]
    if errors:
        raise SystemExit(f"fleet benchmark: {len(errors)} portal(s) failed, e.g. {errors[0]}")
    results.setdefault("cpu_per_portal", []).append(figures["cpu"] / len(portals))
    results.setdefault("memory_mb", []).append(figures["parent_mb"] + figures["worker_mb"])
    results.setdefault("parent_mb", []).append(figures["parent_mb"])
    results.setdefault("worker_mb", []).append(figures["worker_mb"])
    return wall


def _ideal(portals: int) -> float:
    return portals * LATENCY / JOBS


def throughput(portals: int = 800) -> dict[str, list[float]]:
    """HTTPS, --jobs 20: one process per core against a single process, in turn."""
    print(f" {portals} portals over HTTPS, --jobs {JOBS}; {RUNS} runs, in turn  [{load()}]")
    many: dict[str, list[float]] = {}
    one: dict[str, list[float]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="ods-bench-") as tmp,
        farm(Path(tmp), portals, LATENCY, tls=True) as config,
    ):
        walls = interleaved(
            RUNS,
            {
                "default": lambda: _client(config, None, many),
                "one": lambda: _client(config, 1, one),
            },
        )
    ideal = _ideal(portals)
    for label, key, figures in (
        ("--processes default (one per core)", "default", many),
        ("--processes 1", "one", one),
    ):
        print(f"  {label:<36} x ideal {spread([w / ideal for w in walls[key]])}")
        print(f"  {'':<36} peak memory {spread(figures['memory_mb'], ' MB')}")
    print(f"  => default / one process: {spread(ratios(walls['default'], walls['one']))}")
    print(f"  (ideal = {portals} x {LATENCY * 1000:.0f} ms / {JOBS} = {ideal:.2f} s)  [{load()}]")
    return many


def tls_cost(portals: int = 300) -> None:
    """CPU per portal, HTTPS against plain HTTP, runs in turn against two farms."""
    print(f" CPU per portal, HTTPS vs HTTP, {portals} portals; {RUNS} runs, in turn  [{load()}]")
    plain: dict[str, list[float]] = {}
    tls: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="ods-bench-") as tmp:
        root = Path(tmp)
        with (
            farm(root / "http", portals, LATENCY, tls=False) as http_config,
            farm(root / "https", portals, LATENCY, tls=True) as https_config,
        ):
            interleaved(
                RUNS,
                {
                    "http": lambda: _client(http_config, None, plain),
                    "https": lambda: _client(https_config, None, tls),
                },
            )
    for label, figures in (("HTTP", plain), ("HTTPS", tls)):
        print(f"  {label:<36} CPU/portal {spread(figures['cpu_per_portal'], ' ms', 1000)}")
    both = ratios(tls["cpu_per_portal"], plain["cpu_per_portal"])
    print(f"  => HTTPS / HTTP CPU per portal: {spread(both)} (target <= 2x)  [{load()}]")


def large(portals: int = 5000, runs: int = 3) -> dict[str, list[float]]:
    print(f" {portals} portals over HTTPS, --jobs {JOBS}; {runs} runs  [{load()}]")
    figures: dict[str, list[float]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="ods-bench-") as tmp,
        farm(Path(tmp), portals, LATENCY, tls=True) as config,
    ):
        walls = [_client(config, None, figures) for _ in range(runs)]
    ideal = _ideal(portals)
    print(f"  wall {spread(walls, ' s')}, x ideal {spread([w / ideal for w in walls])}")
    print(f"  peak memory (parent + largest worker) {spread(figures['memory_mb'], ' MB')}")
    print(f"  CPU/portal {spread(figures['cpu_per_portal'], ' ms', 1000)}  [{load()}]")
    return figures


def main() -> None:
    print(f"fleet: check --all, every answer {LATENCY * 1000:.0f} ms late, farm in other processes")
    print("  figures: min / median / max")
    small = throughput()
    tls_cost()
    big = large()
    flat = ratios(big["memory_mb"], small["memory_mb"][: len(big["memory_mb"])])
    print(f"  => peak memory, 5,000 vs 800 portals: {spread(flat)} (flat is 1.0x)")
