"""Turning library results into the text a command prints."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from ods_charter.diff import CheckResult
from ods_charter.errors import ConfigError
from ods_charter.html.parse import FIELDS, CookieRecord
from ods_charter.registry import Registry


def records_as(records: Sequence[CookieRecord], fmt: str) -> str:
    rows = [r.as_dict() for r in records]
    if fmt == "json":
        return json.dumps({"cookies": rows}, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()
    if fmt == "table":
        cols = [f for f in FIELDS if any(row[f] for row in rows)]
        widths = {c: min(40, max(len(c), *(len(row[c] or "") for row in rows))) for c in cols}

        def line(values: dict[str, str]) -> str:
            return "  ".join(values[c][: widths[c]].ljust(widths[c]) for c in cols).rstrip()

        out = [line({c: c for c in cols}), line({c: "-" * widths[c] for c in cols})]
        out += [line({c: row[c] or "" for c in cols}) for row in rows]
        return "\n".join(out) + "\n"
    raise ConfigError(f"unknown format {fmt!r}; expected json, csv or table")


def check_report(result: CheckResult, fmt: str, registry: Registry | None = None) -> str:
    from ods_charter import report

    if fmt == "html":
        from ods_charter.html_report import to_html

        return to_html(result, registry)
    try:
        return report.FORMATS[fmt](result)
    except KeyError:
        raise ConfigError(
            f"unknown format {fmt!r}; expected {', '.join([*report.FORMATS, 'html'])}"
        ) from None
