"""Every report format in one place: renderers registered by name, each fed a
:class:`~ods_charter.reports.model.Report` (check, scan, lint and fleet alike)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from ods_charter.reports.model import Item, Report, Table

Renderer = Callable[[Report, bool], str]  # (report, colour) -> text
RENDERERS: dict[str, Renderer] = {}


def renderer(name: str) -> Callable[[Renderer], Renderer]:
    """Register a format under ``name``."""

    def register(func: Renderer) -> Renderer:
        RENDERERS[name] = func
        return func

    return register


class ReportFormat(StrEnum):
    """The formats of check, scan, lint and fleet reports (a CLI choice)."""

    text = "text"
    json = "json"
    markdown = "markdown"
    github = "github"
    junit = "junit"
    html = "html"


class RecordFormat(StrEnum):
    """The formats of ``parse``: the cookie records themselves."""

    json = "json"
    csv = "csv"
    table = "table"


class PlanFormat(StrEnum):
    """The formats of publish, sync, validate and rollback: the plan and the outcome."""

    text = "text"
    json = "json"


_MODULES = {"junit": "junit", "html": "html"}  # every other format is in plain


def render(report: Report, fmt: str, color: bool = False) -> str:
    """``report`` in format ``fmt``; always ends with a newline."""
    from importlib import import_module

    # Only the format's own module is imported (it registers itself): a text
    # report does not pay for xml.etree.
    import_module(f"ods_charter.reports.{_MODULES.get(fmt, 'plain')}")
    text = RENDERERS[fmt](report, color)
    return text if text.endswith("\n") else text + "\n"


__all__ = [
    "RENDERERS",
    "Item",
    "PlanFormat",
    "RecordFormat",
    "Report",
    "ReportFormat",
    "Table",
    "render",
    "renderer",
]
