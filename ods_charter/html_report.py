"""A self-contained HTML report: registry and page side by side per language."""

from __future__ import annotations

from html import escape

from ods_charter.diff import COMPARED, CheckResult, expected_value
from ods_charter.html.parse import CookieRecord
from ods_charter.registry import Registry
from ods_charter.report import word_diff

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
.status { display: inline-block; padding: .2em .6em; border-radius: 4px; color: #fff; }
.status-ok { background: #2e7d32; } .status-drift { background: #e65100; }
.status-error { background: #b71c1c; }
table { border-collapse: collapse; width: 100%; margin-top: .5em; }
th, td { border: 1px solid #ccc; padding: .35em .5em; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
tr.ok td { background: #f1f8f1; } tr.changed td { background: #fff8e1; }
tr.missing td { background: #ffebee; } tr.extra td { background: #e3f2fd; }
del { background: #ffcdd2; text-decoration: line-through; } ins { background: #c8e6c9; }
.legend span { margin-right: 1em; padding: 0 .4em; }
"""


def _cell(registry_text: str | None, page_text: str | None, changed: bool) -> str:
    if not changed:
        return f"<td>{escape(page_text or registry_text or '')}</td>"
    marked = word_diff(registry_text, page_text, ("\0d", "\1d", "\0i", "\1i"))
    marked = escape(marked)
    for raw, tag in (("\0d", "<del>"), ("\1d", "</del>"), ("\0i", "<ins>"), ("\1i", "</ins>")):
        marked = marked.replace(raw, tag)
    return f"<td>{marked}</td>"


def _rows(result: CheckResult, registry: Registry | None, lang: str) -> list[str]:
    diff = result.languages[lang]
    page: dict[str, CookieRecord] = {}
    for record in result.records.get(lang, []):
        page.setdefault(record.name, record)
    changed = {(c.name, c.field) for c in diff.changed}
    rows = []
    for cookie in registry.cookies if registry else []:
        status = "missing" if cookie.name in diff.missing else "ok"
        if any(name == cookie.name for name, _ in changed):
            status = "changed"
        found = page.get(cookie.name)
        cells = [f"<td><code>{escape(cookie.name)}</code></td>", f"<td>{status}</td>"]
        for field_name in COMPARED:
            expected = expected_value(cookie, field_name, lang)
            actual = getattr(found, field_name) if found else None
            cells.append(_cell(expected, actual, (cookie.name, field_name) in changed))
        rows.append(f'<tr class="{status}">{"".join(cells)}</tr>')
    for name in diff.extra:
        extra = page.get(name)
        values = [getattr(extra, f) if extra else "" for f in COMPARED]
        cells = [f"<td><code>{escape(name)}</code></td>", "<td>extra</td>"]
        cells += [f"<td>{escape(v or '')}</td>" for v in values]
        rows.append(f'<tr class="extra">{"".join(cells)}</tr>')
    return rows


def to_html(result: CheckResult, registry: Registry | None = None) -> str:
    """One HTML file, no external assets, that a person can open and read."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Cookie charter report: {escape(result.status)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Cookie charter report</h1>",
        f'<p><span class="status status-{result.status}">{escape(result.status)}</span> '
        f"{escape(result.page)}</p>",
        '<p class="legend"><span style="background:#ffebee">missing from the page</span>'
        '<span style="background:#e3f2fd">on the page only</span>'
        '<span style="background:#fff8e1">text differs</span>'
        "<del>registry</del> <ins>page</ins></p>",
    ]
    header = "".join(f"<th>{f}</th>" for f in ("cookie", "status", *COMPARED))
    for lang, diff in result.languages.items():
        parts.append(f"<h2>Language {escape(lang)}</h2>")
        if diff.error:
            parts.append(f"<p>Error: {escape(diff.error)}</p>")
        parts.append(f"<table><thead><tr>{header}</tr></thead><tbody>")
        parts += _rows(result, registry, lang)
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
