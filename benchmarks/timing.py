"""Timing helpers: paired runs and the spread of their ratios.

A ratio is taken within one run (A and B timed back to back, in turn), so a
change in the machine's load between runs moves both sides alike.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Mapping, Sequence


def best_of(runs: int, func: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def row(label: str, seconds: float, baseline: float | None = None, name: str = "") -> str:
    ratio = f"  {seconds / baseline:6.2f}x {name}" if baseline else ""
    return f"  {label:<44} {seconds * 1000:9.1f} ms{ratio}"


def interleaved(runs: int, cases: Mapping[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Each run measures every case once, in turn; each case returns its figure."""
    figures: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, case in cases.items():
            figures[name].append(case())
    return figures


def ratios(a: Sequence[float], b: Sequence[float]) -> list[float]:
    """Run by run: a[i] / b[i]."""
    return [x / y for x, y in zip(a, b, strict=True)]


def spread(values: Sequence[float], unit: str = "x", scale: float = 1.0) -> str:
    """min / median / max, the way every figure is reported."""
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{low * scale:.2f} / {mid * scale:.2f} / {high * scale:.2f}{unit}"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (1 min) {five:.1f} (5 min) on {os.cpu_count()} cores"
