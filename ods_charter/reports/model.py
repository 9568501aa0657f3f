"""The one result type every report format renders: check, scan, lint and fleet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ods_charter.exitcode import ExitCode

if TYPE_CHECKING:
    from ods_charter.diff import CheckResult
    from ods_charter.registry import Registry

# How a finding weighs: "error" fails CI, "warning" fails too but reads softer,
# "info" is shown and never fails.
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Item:
    """One thing a report tells: a missing cookie, a finding, an unreachable page."""

    group: str  # a language, the scanned portal, the registry file, a portal of a fleet
    subject: str  # a cookie name; "" for the group as a whole
    kind: str  # missing | extra | changed | error | undeclared | lifetime | a lint rule ...
    severity: str
    message: str
    details: tuple[str, ...] = ()
    field: str = ""  # a text change: the column that differs
    before: str | None = None  # a text change: what the registry says ...
    after: str | None = None  # ... and what the page says (registry → page)


@dataclass
class Table:
    """A summary table (fleet runs): each kind of count gets its own column."""

    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]


@dataclass
class Report:
    title: str  # "Cookie charter", "Cookie scan", "Registry lint", "Portals"
    source: str  # what was looked at: a page URL, a registry file, "3 portals"
    status: str  # ok | drift | findings | error
    summary: str  # one line a person reads first
    items: list[Item] = field(default_factory=list)
    # Every group and the subjects looked at in it, so that JUnit can list passes too.
    checked: dict[str, list[str]] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # the JSON document
    legend: str = ""  # how to read a change, shown before any change
    table: Table | None = None
    headings: dict[str, str] = field(default_factory=dict)  # kind -> title in text output
    # A check also keeps the pages' records and the registry, for the side-by-side HTML.
    check: CheckResult | None = None
    registry: Registry | None = None

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.for_status(self.status)
