"""Parse time: ods-charter vs pandas.read_html (what a user would reach for) and
a bare lexbor parse of the same bytes (the floor: the same HTML5 parser,
building its tree and nothing more). Each run times the three back to back, so
the ratios are paired; min / median / max over the runs."""

from __future__ import annotations

import io
import statistics
import time
import warnings
from collections.abc import Callable, Sequence

from selectolax.lexbor import LexborHTMLParser

from benchmarks.synthetic import STAR_PAGE, big_page
from ods_charter.errors import ParseError
from ods_charter.html.parse import parse_page

RUNS = 7


def _pandas(data: bytes) -> object:
    import pandas

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pandas.read_html(io.BytesIO(data), flavor="lxml")


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def spread(values: Sequence[float], unit: str = "x") -> str:
    """min / median / max, the way every figure here is reported."""
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{low:.2f} / {mid:.2f} / {high:.2f}{unit}"


def main() -> None:
    print(
        f"parse: {RUNS} paired runs, min / median / max. Targets: pandas.read_html / "
        "ods-charter >= 1.5x; ods-charter / bare lexbor parse <= 12x"
    )
    for label, data in (
        ("STAR page", STAR_PAGE.read_bytes()),
        ("synthetic 5 MB page (40 tables, 2,000 rows)", big_page()),
    ):
        records = len(parse_page(data).records)
        _pandas(data)  # warm: the first call pays pandas' imports
        ours, bare, pandas = [], [], []
        for _ in range(RUNS):
            ours.append(timed(lambda d=data: parse_page(d)))  # type: ignore[misc]
            bare.append(timed(lambda d=data: LexborHTMLParser(d)))  # type: ignore[misc]
            pandas.append(timed(lambda d=data: _pandas(d)))  # type: ignore[misc]
        print(f" {label}: {len(data) / 1e6:.2f} MB, {records} records")
        vs_pandas = [p / o for p, o in zip(pandas, ours, strict=True)]
        vs_bare = [o / b for o, b in zip(ours, bare, strict=True)]
        print(f"  ods-charter parse_page           {spread([t * 1000 for t in ours], ' ms')}")
        print(f"  pandas.read_html / ods-charter   {spread(vs_pandas)}")
        print(f"  ods-charter / bare lexbor parse  {spread(vs_bare)}")
    pathological()


def _outcome(data: bytes) -> str:
    try:
        return f"{len(parse_page(data).records)} records"
    except ParseError as exc:
        return f"ParseError: {str(exc)[:60]}"


def pathological() -> None:
    """Hostile input must end quickly, with records or a clear error."""
    table = (STAR_PAGE.parent / "supplier-duration.html").read_bytes()
    head = b"<table><tr><th>Cookie</th><th>Purpose</th></tr>"
    cases = {
        "10,000 nested tags": b"<div>" * 10_000 + table + b"</div>" * 10_000,
        "100,000 empty cells in one row": head + b"<tr>" + b"<td></td>" * 100_000 + b"</tr>",
        "header-only table": head + b"</table>",
        "rowspan and colspan of 99,999,999": head
        + b'<tr><td>x</td><td rowspan="99999999" colspan="99999999">y</td></tr></table>',
        "50 MB body": b"<p>" + b"a" * 50_000_000,
    }
    print(" pathological input, 3 runs (target: well under a second, or a clear error)")
    for label, data in cases.items():
        runs = [timed(lambda d=data: _outcome(d)) * 1000 for _ in range(3)]  # type: ignore[misc]
        print(f"  {label:<36} {spread(runs, ' ms')}  -> {_outcome(data)}")
