"""Evidence for the person who answers to the regulator: per language, what the
registry says, what the published page says and what a visitor's browser
received in each consent state, and when and how that was observed.

One self-contained HTML file (``scan --evidence FILE``).
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from ods_charter.consent import STATE_LABELS
from ods_charter.diff import CheckResult
from ods_charter.html.parse import CookieRecord
from ods_charter.registry import Cookie, Registry
from ods_charter.scan import Finding, ScanResult, SeenCookie

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; width: 100%; margin-top: .5em; }
th, td { border: 1px solid #ccc; padding: .35em .5em; vertical-align: top; text-align: left; }
th { background: #f3f3f3; } td.no { color: #888; }
tr.error td { background: #ffebee; } tr.warning td { background: #fff8e1; }
tr.ok td { background: #f1f8f1; }
dt { font-weight: bold; } dd { margin: 0 0 .4em 1em; }
"""


def _days(days: float | None) -> str:
    if days is None:
        return "session"
    if days >= 1:
        return f"{days:.0f} d"
    return f"{days * 24:.0f} h" if days * 24 >= 1 else f"{days * 1440:.0f} min"


def _registry_cell(entry: Cookie | None) -> str:
    if entry is None:
        return '<td class="no">not declared</td>'
    life = "" if entry.lifetime_days is None else f", {entry.lifetime_days} d"
    return f"<td>{escape(entry.category)}{escape(life)}</td>"


def _page_cell(record: CookieRecord | None) -> str:
    if record is None:
        return '<td class="no">not on the page</td>'
    parts = [p for p in (record.category, record.lifetime) if p]
    return f"<td>{escape(', '.join(parts) or 'listed')}</td>"


def _observed_cell(seen: list[SeenCookie]) -> str:
    if not seen:
        return '<td class="no">—</td>'
    return (
        "<td>"
        + "<br>".join(
            f"<code>{escape(c.name)}</code> {escape(_days(c.lifetime_days))}" for c in seen
        )
        + "</td>"
    )


def _rows(registry: Registry, records: list[CookieRecord], result: ScanResult) -> list[str]:
    page = {r.name: r for r in records}
    names = [c.name for c in registry.cookies]
    names += [n for n in page if n not in names]
    for cookie in result.cookies:
        if not any(Cookie(n, "").matches(cookie.name) for n in names):
            names.append(cookie.name)
    rows = []
    for name in names:
        pattern = Cookie(name, "")
        entry = registry.get(name)
        found: list[Finding] = [
            f for f in result.findings if f.cookie and pattern.matches(f.cookie)
        ]
        verdicts = sorted({f.kind.replace("_", " ") for f in found if f.severity != "info"})
        if entry is not None and name not in page:
            verdicts.append("missing from the page")
        if entry is None and name in page:
            verdicts.append("on the page, not in the registry")
        level = (
            "error"
            if any(f.severity == "error" for f in found)
            else "warning"
            if verdicts
            else "ok"
        )
        cells = [f"<td><code>{escape(name)}</code></td>"]
        cells += [_registry_cell(entry), _page_cell(page.get(name))]
        for state in result.states:
            cells.append(_observed_cell([c for c in state.cookies if pattern.matches(c.name)]))
        cells.append(f"<td>{escape('; '.join(verdicts) or 'consistent')}</td>")
        rows.append(f'<tr class="{level}">{"".join(cells)}</tr>')
    return rows


def _how(result: ScanResult) -> list[str]:
    ev = result.evidence
    items = [
        ("Observed at (UTC)", escape(ev.get("observed_at", ""))),
        ("Tool", "ods-charter " + escape(ev.get("tool", ""))),
        ("Method", escape(ev.get("method", ""))),
    ]
    if ev.get("browser"):
        items.append(("Browser", "Chromium " + escape(ev["browser"])))
    portal = urlsplit(result.urls[0]).hostname if result.urls else None
    states = []
    for s in result.states:
        hosts = ", ".join(sorted(h for h in s.third_parties if h != portal)) or "none"
        banner = f"banner operated: {s.banner}" if s.banner else "no banner operated"
        text = f"{STATE_LABELS[s.state]} ({banner}; other hosts contacted: {hosts})"
        states.append(escape(text))
    items.append(("Consent states", "<br>".join(states)))
    for label, kind in (("localStorage", "local_storage"), ("sessionStorage", "session_storage")):
        keys = [
            f"{escape(STATE_LABELS[s.state])}: "
            + (", ".join(f"<code>{escape(k)}</code>" for k in getattr(s, kind)) or "none")
            for s in result.states
        ]
        items.append((f"{label} keys", "<br>".join(keys)))
    items.append(("URLs", "<br>".join(f"<code>{escape(u)}</code>" for u in result.urls)))
    return ["<dl>", *(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items), "</dl>"]


def to_html(registry: Registry, check: CheckResult, result: ScanResult) -> str:
    """Registry ↔ published page ↔ observed, per language, and how it was observed."""
    states = "".join(f"<th>observed: {escape(STATE_LABELS[s.state])}</th>" for s in result.states)
    header = (
        f"<tr><th>cookie</th><th>registry</th><th>published page</th>{states}<th>verdict</th></tr>"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Cookie charter evidence</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Cookie charter evidence</h1>",
        f"<p>Published page: <code>{escape(check.page)}</code> ({escape(check.status)})</p>",
        "<h2>How this was observed</h2>",
        *_how(result),
    ]
    for lang, diff in check.languages.items():
        parts.append(f"<h2>Language {escape(lang)}</h2>")
        if diff.error:
            parts.append(f"<p>The page could not be read: {escape(diff.error)}</p>")
        parts.append(f"<table><thead>{header}</thead><tbody>")
        parts += _rows(registry, check.records.get(lang, []), result)
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
