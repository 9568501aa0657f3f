"""Text formats: plain text (coloured on a terminal), JSON, Markdown, GitHub annotations."""

from __future__ import annotations

import json
import re
from itertools import groupby

from ods_charter.reports import renderer
from ods_charter.reports.model import Item, Report, Table
from ods_charter.reports.worddiff import word_diff

_ANSI = {"red": "31", "green": "32", "yellow": "33", "dim": "2", "bold": "1"}
_STATUS_STYLE = {"ok": "green", "error": "red"}  # drift, findings: yellow
_SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "dim"}
_DELETED = re.compile(r"\[-(.*?)-\]", re.S)
_ADDED = re.compile(r"\{\+(.*?)\+\}", re.S)


def paint(text: str, style: str, color: bool) -> str:
    return f"\033[{_ANSI[style]}m{text}\033[0m" if color and text else text


def paint_diff(text: str, color: bool) -> str:
    """Word-diff markers in red (registry, now) and green (page, after)."""
    if not color:
        return text
    text = _DELETED.sub(lambda m: paint(m.group(0), "red", True), text)
    return _ADDED.sub(lambda m: paint(m.group(0), "green", True), text)


def _table_lines(table: Table) -> list[str]:
    widths = [max(len(c), *(len(r[i]) for r in table.rows)) for i, c in enumerate(table.columns)]
    widths[-1] = len(table.columns[-1])  # the last column (error) runs free, never padded

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(table.columns), line(tuple("-" * w for w in widths)), *map(line, table.rows)]


def _by_group(items: list[Item]) -> list[tuple[str, list[Item]]]:
    order = list(dict.fromkeys(i.group for i in items))
    return [(g, [i for i in items if i.group == g]) for g in order]


@renderer("text")
def to_text(report: Report, color: bool) -> str:
    style = _STATUS_STYLE.get(report.status, "yellow")
    if report.table is not None:
        return "\n".join(_table_lines(report.table))
    lines = [paint(report.summary, style, color)]
    if report.legend:
        lines.append(paint(f"({report.legend})", "dim", color))
    for group, items in _by_group(report.items):
        lines.append(f"[{group}]")
        for kind, same in groupby(items, key=lambda i: i.kind):
            heading = report.headings.get(kind)
            if heading:
                lines.append(f"  {heading}")
            lines += _item_lines(list(same), color, "    " if heading else "  ")
    return "\n".join(lines)


def _item_lines(items: list[Item], color: bool, indent: str) -> list[str]:
    lines = []
    for item in items:
        if item.kind == "changed":
            message = paint_diff(item.message, color)
        else:
            message = paint(item.message, _SEVERITY_STYLE[item.severity], color)
        lines.append(f"{indent}{message}")
        lines += [f"{indent}    {d}" for d in item.details]
    return lines


@renderer("json")
def to_json(report: Report, color: bool) -> str:
    return json.dumps(report.data, ensure_ascii=False, indent=2)


def _md(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


_ICONS = {"ok": "✅", "error": "❌"}


@renderer("markdown")
def to_markdown(report: Report, color: bool) -> str:
    icon = _ICONS.get(report.status, "⚠️")
    lines = [f"### {icon} {report.title}: {report.status}", "", f"{_md(report.summary)}", ""]
    if report.table is not None:
        table = report.table
        lines.append("| " + " | ".join(table.columns) + " |")
        lines.append("|" + "---|" * len(table.columns))
        lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in table.rows]
        return "\n".join(lines)
    if report.legend:
        lines += ["In a change: ~~registry text~~ **page text**.", ""]
    grouped = dict(_by_group(report.items))
    for group in dict.fromkeys([*report.checked, *grouped]):
        items = grouped.get(group, [])
        if not items:
            lines.append(f"- **{_md(group)}**: ok")
            continue
        lines += ["", f"#### `{_md(group)}`", ""]
        changes = [i for i in items if i.kind == "changed"]
        kind = None
        for item in items:
            if item.kind != kind and item.kind in report.headings:
                kind = item.kind
                lines += ["", f"**{_md(report.headings[kind])}**", ""]
            if item.kind != "changed":
                named = item.message.replace(item.subject, f"`{item.subject}`", 1)
                lines.append(f"- {_md(named if item.subject else item.message)}")
        if changes:
            lines += ["", "| cookie | field | change (~~registry~~ **page**) |", "|---|---|---|"]
            for item in changes:
                diff = word_diff(item.before, item.after, ("~~", "~~", "**", "**"))
                lines.append(f"| `{_md(item.subject)}` | {item.field} | {_md(diff)} |")
        lines.append("")
    return "\n".join(lines).rstrip()


def _gh(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


_GH_TITLES = {
    "error": "Could not check",
    "missing": "Cookie missing",
    "extra": "Undeclared cookie",
    "changed": "Cookie text changed",
    "undeclared": "Undeclared cookie",
    "lifetime": "Cookie lifetime",
    "insecure": "Insecure cookie",
    "not_seen": "Declared cookie not seen",
    "before_consent": "Cookie set before consent",
    "after_refusal": "Cookie set after refusal",
    "third_party": "Third-party host contacted without consent",
    "no_banner": "Consent banner not found",
}
_GH_LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


@renderer("github")
def to_github(report: Report, color: bool) -> str:
    """GitHub Actions workflow commands: one annotation per item, then the summary."""
    lines = []
    for group, items in groupby(report.items, key=lambda i: i.group):
        for item in items:
            title = f"{_GH_TITLES.get(item.kind, item.kind)} ({group})"
            level = _GH_LEVELS[item.severity]
            lines.append(f"::{level} title={_gh(title)}::{_gh(item.message)}")
    if report.table is not None:
        lines += _table_lines(report.table)
    lines.append(report.summary)
    return "\n".join(lines)
