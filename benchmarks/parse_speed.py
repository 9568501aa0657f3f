"""Parse time: ods-charter vs pandas.read_html (what a user would reach for)
and the raw lxml.html parse of the same bytes (the floor)."""

from __future__ import annotations

import io
import warnings

import lxml.html

from benchmarks.synthetic import STAR_PAGE, big_page
from benchmarks.timing import best_of, row
from ods_charter.errors import ParseError
from ods_charter.html.parse import parse_page


def _pandas(data: bytes) -> object:
    import pandas

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pandas.read_html(io.BytesIO(data), flavor="lxml")


def main() -> None:
    print("parse: ods-charter vs pandas.read_html (target: >= 1.5x faster) and raw lxml")
    print("       (target: within 12x); best of several runs")
    for label, data, runs in (
        ("STAR page", STAR_PAGE.read_bytes(), 30),
        ("synthetic 5 MB page (40 tables, 2,000 rows)", big_page(), 5),
    ):
        records = len(parse_page(data).records)
        ours = best_of(runs, lambda d=data: parse_page(d))  # type: ignore[misc]
        floor = best_of(runs, lambda d=data: lxml.html.document_fromstring(d))  # type: ignore[misc]
        pandas_time = best_of(runs, lambda d=data: _pandas(d))  # type: ignore[misc]
        print(f" {label}: {len(data) / 1e6:.2f} MB, {records} records")
        print(row("raw lxml.html parse (floor)", floor))
        print(row("ods-charter parse_page", ours, floor, "of raw lxml"))
        print(row("pandas.read_html", pandas_time, ours, "of ods-charter"))
        print(
            f"  => ods-charter is {pandas_time / ours:.2f}x faster than pandas.read_html, "
            f"{ours / floor:.2f}x raw lxml"
        )
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
    print(" pathological input, best of 3 (target: well under a second, or a clear error)")
    for label, data in cases.items():
        seconds = best_of(3, lambda d=data: _outcome(d))  # type: ignore[misc]
        print(f"{row(label, seconds)}  -> {_outcome(data)}")
