"""Timing helpers: best of several runs, which is what repeatable figures need."""

from __future__ import annotations

import time
from collections.abc import Callable


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
