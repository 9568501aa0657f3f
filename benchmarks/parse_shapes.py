"""Adversarial table shapes: parse time must grow linearly with the page.

Each shape is built at several sizes up to 1 MB; the median of several runs per
size is fitted as time ~ size^k (least squares on the logarithms). Targets:
every exponent k <= 1.15, and no page under 1 MB above 1 s. A shape may end in
ods-charter's ParseError (a cap reached): that is an answer too, and its time
counts the same.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

from benchmarks.parse_speed import timed
from ods_charter.errors import ParseError
from ods_charter.html.parse import parse_page

SIZES = (64_000, 128_000, 256_000, 512_000, 1_000_000)
RUNS = 5
_HEAD = "<table><tr><th>Cookie</th><th>Provider</th><th>Purpose</th></tr>"


def _fill(size: int, head: str, unit: str, tail: str = "</table>") -> bytes:
    count = max(1, (size - len(head) - len(tail)) // len(unit))
    return (head + unit * count + tail).encode()


def alternate_rowspans(size: int) -> bytes:
    """The shape that was quadratic: rowspans on alternate columns of a wide
    row, then sparse rows the spans must reach across."""
    width = max(2, int(math.sqrt(size / 20)))
    wide = "<tr>" + '<td rowspan="1000">a</td><td>b</td>' * (width // 2) + "</tr>"
    return _fill(size, _HEAD + wide, "<tr><td>x</td></tr>")


def colspans(size: int) -> bytes:
    return _fill(size, _HEAD, '<tr><td>n</td><td colspan="1000">p</td></tr>')


def deep_nesting(size: int) -> bytes:
    depth = size // 12
    table = _HEAD + "<tr><td>c</td><td>p</td><td>q</td></tr></table>"
    return ("<div>" * depth + table + "</div>" * depth).encode()


def nested_tables(size: int) -> bytes:
    """Stacks of 100 cookie tables each nested in the previous one's cell
    (deeper stacks are refused by the nesting cap, see deep nesting)."""
    unit = "<table><tr><th>Cookie</th><th>Purpose</th></tr><tr><td>c</td><td>"
    stack = unit * 100 + "x" + "</td></tr></table>" * 100
    return (stack * max(1, size // len(stack))).encode()


def deep_then_wide(size: int) -> bytes:
    """Just under the nesting cap, then many tags that each look down the stack."""
    return ("<div>" * 500 + "<p>x</p>" * max(1, (size - 2500) // 8)).encode()


def empty_cells(size: int) -> bytes:
    return _fill(size, _HEAD + "<tr>", "<td></td>", "</tr></table>")


def many_rows(size: int) -> bytes:
    return _fill(size, _HEAD, "<tr><td>_ga</td><td>Google</td><td>Audience</td></tr>")


def long_cells(size: int) -> bytes:
    text = "Mesure d'audience anonyme, " * (size // 60)
    return f"{_HEAD}<tr><td>_pk_id.*</td><td>Matomo</td><td>{text}</td></tr></table>".encode()


def many_tables(size: int) -> bytes:
    unit = _HEAD + "<tr><td>_ga</td><td>Google</td><td>Audience</td></tr></table>\n"
    return (unit * max(1, size // len(unit))).encode()


SHAPES: dict[str, Callable[[int], bytes]] = {
    "rowspans on alternate columns": alternate_rowspans,
    "colspan 1,000 on every row": colspans,
    "deep nesting": deep_nesting,
    "nested tables": nested_tables,
    "deep, then wide": deep_then_wide,
    "many empty cells": empty_cells,
    "many rows": many_rows,
    "long cells": long_cells,
    "many small tables": many_tables,
}


def _parse(data: bytes) -> str:
    try:
        return f"{len(parse_page(data).records)} records"
    except ParseError as exc:
        return f"ParseError ({str(exc)[:40]}...)"


def exponent(sizes: list[int], seconds: list[float]) -> float:
    """k in seconds ~ size^k, least squares on the logarithms."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(max(t, 1e-6)) for t in seconds]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def main() -> None:
    print(
        f"adversarial shapes: median of {RUNS} runs at {len(SIZES)} sizes "
        f"({SIZES[0] // 1000} KB .. {SIZES[-1] // 1000} KB); targets: exponent <= 1.15, "
        "every page under 1 MB within 1 s"
    )
    for label, build in SHAPES.items():
        pages = [build(size) for size in SIZES]
        medians = [
            statistics.median(timed(lambda p=page: _parse(p)) for _ in range(RUNS))  # type: ignore[misc]
            for page in pages
        ]
        k = exponent([len(p) for p in pages], medians)
        worst = max(medians)
        verdict = "ok" if k <= 1.15 and worst <= 1.0 else "OVER TARGET"
        print(
            f"  {label:<32} exponent {k:5.2f}   largest {len(pages[-1]) / 1e6:.2f} MB: "
            f"{worst * 1000:7.1f} ms  {verdict}  -> {_parse(pages[-1])}"
        )
