"""Parse time: ods-charter vs pandas.read_html (what a user would reach for)
and the raw lxml.html parse of the same bytes (the floor)."""

from __future__ import annotations

import io
import warnings

import lxml.html

from benchmarks.synthetic import STAR_PAGE, big_page
from benchmarks.timing import best_of, row
from ods_charter.parse import parse_page


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
