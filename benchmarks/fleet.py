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
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.farm import Farm, farm
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


def _client(portals_farm: Farm, processes: int | None, results: dict[str, list[float]]) -> float:
    """One ``check --all`` run: returns its wall time; CPU and memory go to results."""
    out = portals_farm.config.parent / "client.json"
    args = [sys.executable, "-P", "-c", _CLIENT, str(out), "check", "--all"]
    args += ["--config", str(portals_farm.config), "--jobs", str(JOBS), "--format", "json"]
    if processes:
        args += ["--processes", str(processes)]
    farm_cpu, start = portals_farm.cpu(), time.perf_counter()
    run = subprocess.run(args, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    farm_cpu = portals_farm.cpu() - farm_cpu
    figures = json.loads(out.read_text())
    portals = json.loads(run.stdout)["portals"]
    errors = [p["error"] for p in portals if p["status"] == "error"]
    if errors:
        raise SystemExit(f"fleet benchmark: {len(errors)} portal(s) failed, e.g. {errors[0]}")
    results.setdefault("cpu_per_portal", []).append(figures["cpu"] / len(portals))
    results.setdefault("farm_cpu_per_portal", []).append(farm_cpu / len(portals))
    results.setdefault("memory_mb", []).append(figures["parent_mb"] + figures["worker_mb"])
    results.setdefault("parent_mb", []).append(figures["parent_mb"])
    results.setdefault("worker_mb", []).append(figures["worker_mb"])
    return wall


def _ideal(portals: int) -> float:
    return portals * LATENCY / JOBS


def _report(label: str, portals: int, walls: list[float], figures: dict[str, list[float]]) -> None:
    ms = 1000
    both = zip(figures["cpu_per_portal"], figures["farm_cpu_per_portal"], strict=True)
    cores = os.cpu_count() or 1
    floor = [(client + served) * portals / cores / _ideal(portals) for client, served in both]
    print(f"  {label}")
    print(f"    wall / ideal             {spread([w / _ideal(portals) for w in walls])}")
    print(f"    client CPU per portal    {spread(figures['cpu_per_portal'], ' ms', ms)}")
    print(f"    farm CPU per portal      {spread(figures['farm_cpu_per_portal'], ' ms', ms)}")
    # Client and farm share the cores: below this, no scheduling can go.
    print(f"    CPU floor / ideal        {spread(floor)}")
    print(
        f"    peak memory              {spread(figures['memory_mb'], ' MB')} "
        f"(parent {spread(figures['parent_mb'], ' MB')}, "
        f"largest worker {spread(figures['worker_mb'], ' MB')})"
    )


def throughput(portals: int = 800) -> dict[str, list[float]]:
    """HTTPS, --jobs 20: one process per core against a single process, in turn."""
    print(f" {portals} portals over HTTPS, --jobs {JOBS}; {RUNS} runs, in turn  [{load()}]")
    many: dict[str, list[float]] = {}
    one: dict[str, list[float]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="ods-bench-") as tmp,
        farm(Path(tmp), portals, LATENCY, tls=True) as served,
    ):
        walls = interleaved(
            RUNS,
            {
                "default": lambda: _client(served, None, many),
                "one": lambda: _client(served, 1, one),
            },
        )
    _report("--processes default (one per core)", portals, walls["default"], many)
    _report("--processes 1", portals, walls["one"], one)
    print(f"  => wall, default / one process: {spread(ratios(walls['default'], walls['one']))}")
    ideal = _ideal(portals)
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
            farm(root / "http", portals, LATENCY, tls=False) as http_farm,
            farm(root / "https", portals, LATENCY, tls=True) as https_farm,
        ):
            interleaved(
                RUNS,
                {
                    "http": lambda: _client(http_farm, None, plain),
                    "https": lambda: _client(https_farm, None, tls),
                },
            )
    for label, figures in (("HTTP", plain), ("HTTPS", tls)):
        print(
            f"  {label:<6} client CPU per portal {spread(figures['cpu_per_portal'], ' ms', 1000)}"
        )
    both = ratios(tls["cpu_per_portal"], plain["cpu_per_portal"])
    print(f"  => HTTPS / HTTP client CPU per portal: {spread(both)} (target <= 2x)  [{load()}]")


def large(portals: int = 5000, runs: int = RUNS) -> dict[str, list[float]]:
    print(f" {portals} portals over HTTPS, --jobs {JOBS}; {runs} runs  [{load()}]")
    figures: dict[str, list[float]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="ods-bench-") as tmp,
        farm(Path(tmp), portals, LATENCY, tls=True) as served,
    ):
        walls = [_client(served, None, figures) for _ in range(runs)]
    _report("--processes default (one per core)", portals, walls, figures)
    print(f"    wall                     {spread(walls, ' s')}  [{load()}]")
    return figures


def main() -> None:
    print(f"fleet: check --all, every answer {LATENCY * 1000:.0f} ms late, farm in other processes")
    print("  figures: min / median / max")
    small = throughput()
    tls_cost()
    big = large()
    flat = ratios(big["memory_mb"], small["memory_mb"][: len(big["memory_mb"])])
    print(f"  => peak memory, 5,000 vs 800 portals: {spread(flat)} (flat is 1.0x)")
