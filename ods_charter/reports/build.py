"""Library results (check, scan, lint, fleet) turned into the one :class:`Report`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ods_charter.diff import CheckResult, LanguageDiff
from ods_charter.reports.model import Item, Report, Table
from ods_charter.reports.worddiff import word_diff

if TYPE_CHECKING:
    from ods_charter.fleet import PortalSummary
    from ods_charter.lint import Finding as LintFinding
    from ods_charter.registry import Registry
    from ods_charter.scan import ScanResult

CHANGE_LEGEND = "how to read a change: registry → page, [-registry text-]{+page text+}"


SCAN_HEADINGS = {
    "before_consent": "ERROR: set before consent",
    "after_refusal": "ERROR: set after the visitor refused",
    "undeclared": "set by the portal, absent from the registry",
    "lifetime": "lives longer than the registry says",
    "insecure": "missing a security attribute",
    "third_party": "third-party hosts contacted without consent",
    "no_banner": "consent banner (information)",
    "not_seen": "declared but not seen (information)",
    "local_storage": "kept in the browser's localStorage (information)",
}


def failed_check(page: str, languages: Sequence[str], error: str, portal: str = "") -> CheckResult:
    """A check that could not read the page: every language marked as an error."""
    return CheckResult(page, {lang: LanguageDiff(error=error) for lang in languages}, portal)


def failed_scan(portal: str, base_url: str, error: str) -> Report:
    """A scan that could not reach the portal."""
    return Report(
        title="Cookie scan",
        source=base_url,
        status="error",
        summary=f"error: {error}",
        items=[Item(portal, "", "error", "error", f"error: {error}")],
        data={"portal": portal, "status": "error", "error": error},
    )


def _check_summary(result: CheckResult) -> str:
    if result.status == "ok":
        return f"in sync: {result.page} matches the registry ({', '.join(result.languages)})"
    if result.status == "error":
        return f"error: {result.page} could not be checked"
    drifted = [lang for lang, d in result.languages.items() if not d.in_sync]
    return f"drift: {result.page} differs from the registry in {', '.join(drifted)}"


def _language_items(lang: str, d: LanguageDiff) -> list[Item]:
    items = []
    if d.error:
        items.append(Item(lang, "", "error", "error", f"error: {d.error}"))
    items += [
        Item(lang, name, "missing", "error", f"missing from the page: {name}") for name in d.missing
    ]
    items += [
        Item(lang, name, "extra", "error", f"on the page, not in the registry: {name}")
        for name in d.extra
    ]
    for c in d.changed:
        items.append(
            Item(
                lang,
                c.name,
                "changed",
                "warning",
                f"changed {c.name} {c.field}: {word_diff(c.registry, c.page)}",
                (f"registry: {c.registry!r}", f"page:     {c.page!r}"),
                field=c.field,
                before=c.registry,
                after=c.page,
            )
        )
    return items


def from_check(result: CheckResult, registry: Registry | None = None) -> Report:
    items = [i for lang, d in result.languages.items() for i in _language_items(lang, d)]
    data = {"portal": result.portal, **result.as_dict()}
    return Report(
        title="Cookie charter",
        source=result.page,
        status=result.status,
        summary=_check_summary(result),
        items=items,
        checked={lang: list(dict.fromkeys(d.checked)) for lang, d in result.languages.items()},
        data=data,
        legend=CHANGE_LEGEND if any(i.kind == "changed" for i in items) else "",
        check=result,
        registry=registry,
    )


def from_scan(result: ScanResult, portal: str) -> Report:
    order = list(SCAN_HEADINGS)
    # Known kinds in their reading order, any other kind after them.
    findings = sorted(
        result.findings, key=lambda f: order.index(f.kind) if f.kind in order else len(order)
    )
    items = [
        Item(
            portal,
            f.cookie,
            f.kind,
            f.severity,
            f"{f.cookie}: {f.message}" if f.cookie else f.message,
        )
        for f in findings
    ]
    if result.local_storage:
        keys = ", ".join(result.local_storage)
        items.append(Item(portal, "", "local_storage", "info", keys))
    status = "findings" if result.exit_code else "ok"
    seen = [c.name for c in result.cookies] + [f.cookie for f in result.findings]
    return Report(
        title="Cookie scan",
        source=portal,
        status=status,
        summary=f"cookie scan: {len(result.cookies)} cookies seen on {len(result.urls)} URLs"
        + ("" if result.exit_code else ": nothing to fix"),
        items=items,
        checked={portal: list(dict.fromkeys(seen))},
        data={"portal": portal, **result.as_dict()},
        headings=SCAN_HEADINGS,
    )


def from_lint(findings: Sequence[LintFinding], source: str, registry: Registry) -> Report:
    items = [
        Item(
            source,
            f.cookie,
            f.rule,
            f.severity,
            f"{f.severity}: {f.cookie}: {f.message} [{f.rule}]",
        )
        for f in findings
    ]
    failed = any(f.severity == "error" for f in findings)
    status = "findings" if failed else "ok"
    summary = (
        f"{source}: {len(findings)} finding(s)" if findings else f"ok: {source} passes every rule"
    )
    return Report(
        title="Registry lint",
        source=source,
        status=status,
        summary=summary,
        items=items,
        checked={source: [c.name for c in registry.cookies]},
        data={
            "status": status,
            "registry": source,
            "findings": [f.__dict__ for f in findings],
        },
    )


def fleet_status(statuses: Sequence[str]) -> str:
    """error if any portal errored, else the first other non-ok word, else ok."""
    if "error" in statuses:
        return "error"
    return next((s for s in statuses if s != "ok"), "ok")


def from_fleet(summaries: Sequence[PortalSummary], title: str) -> Report:
    kinds = list(dict.fromkeys(k for s in summaries for k in s.counts))
    columns = ("portal", "status", *kinds, "error")
    rows = [
        (s.portal, s.status, *(str(s.counts.get(k, 0)) for k in kinds), s.error or "")
        for s in summaries
    ]
    items = []
    for s in summaries:
        if s.status == "ok":
            continue
        counted = ", ".join(f"{n} {k}" for k, n in s.counts.items() if n)
        message = s.error or counted or s.status
        items.append(Item(s.portal, "", s.status, "error", f"{s.status}: {message}"))
    status = fleet_status([s.status for s in summaries])
    return Report(
        title=title,
        source=f"{len(summaries)} portals",
        status=status,
        summary=f"{title}: {status} ({len(summaries)} portals)",
        items=items,
        checked={s.portal: [""] for s in summaries},  # one test case per portal
        data={"status": status, "portals": [s.as_dict() for s in summaries]},
        table=Table(columns, rows),
    )
