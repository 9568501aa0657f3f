"""Publishing the registry to the charter page, safely.

The order of a write is fixed: read, plan, confirm, back up, read again and
refuse if the page moved, PUT (retried only where it is safe), read back and
verify, then record it in the audit log. Rollback follows the same path.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ods_charter.audit import audit, new_id
from ods_charter.backup import host_of, write_backup
from ods_charter.config import PortalConfig
from ods_charter.diff import LanguageDiff, compare_page
from ods_charter.errors import (
    ConcurrentEditError,
    FetchError,
    InterruptedWrite,
    OdsCharterError,
    ParseError,
    PortalError,
    PublishError,
)
from ods_charter.html.parse import parse_page
from ods_charter.html.render import render_default
from ods_charter.html.splice import apply_changes
from ods_charter.lock import DEFAULT_LOCK_WAIT, page_lock
from ods_charter.page import page_problem
from ods_charter.portal import WRITABLE_FIELDS, AutomationClient
from ods_charter.registry import Registry
from ods_charter.secrets import redact
from ods_charter.transport import Response, retry_after

STATE_DIR = Path(".ods-charter")
DEFAULT_BACKUP_DIR = STATE_DIR / "backups"
DEFAULT_AUDIT_LOG = STATE_DIR / "audit.jsonl"


class LegalPageError(PublishError):
    """The page is a built-in legal page: the API cannot write it."""

    def __init__(self, message: str, html: str) -> None:
        super().__init__(message)
        self.html = html


@dataclass
class Plan:
    action: str  # "publish" or "rollback"
    portal: str
    slug: str
    page: dict[str, Any]  # the page as read, step 1
    html: dict[str, str]  # content.html to send, every language
    css: dict[str, str]
    changes: dict[str, LanguageDiff] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    publish_step: str = "none"  # "post": the portal needs POST .../publish/ after the PUT

    @property
    def changed_languages(self) -> list[str]:
        old = self.page["content"].get("html", {})
        return [lang for lang in self.html if self.html[lang] != old.get(lang)]

    @property
    def has_changes(self) -> bool:
        content = self.page["content"]
        return bool(self.html != content.get("html", {}) or self.css != content.get("css", {}))

    def body(self) -> dict[str, Any]:
        """The PUT body: every writable field as read, with the new content."""
        body = {k: self.page[k] for k in WRITABLE_FIELDS if k in self.page}
        body["content"] = {"html": dict(self.html), "css": dict(self.css)}
        return body

    def html_diff(self) -> str:
        old_html = self.page["content"].get("html", {})
        out: list[str] = []
        for lang in self.changed_languages:
            out += difflib.unified_diff(
                old_html.get(lang, "").splitlines(keepends=True),
                self.html[lang].splitlines(keepends=True),
                fromfile=f"{self.slug} [{lang}] now",
                tofile=f"{self.slug} [{lang}] after {self.action}",
            )
        return "".join(line if line.endswith("\n") else line + "\n" for line in out)

    def summary(self) -> str:
        lines = [f"{self.action} plan for page {self.slug!r} on {self.portal}"]
        for lang, d in self.changes.items():
            if d.in_sync:
                lines.append(f"  [{lang}] already matches the registry: left as it is")
                continue
            lines += [f"  [{lang}] add {name}" for name in d.missing]
            lines += [f"  [{lang}] remove {name}" for name in d.extra]
            lines += [f"  [{lang}] change {c.name} {c.field}" for c in d.changed]
        if self.action == "rollback":
            lines += self._rollback_lines()
        lines += [f"  note: {n}" for n in self.notes]
        if self.page.get("has_subdomain_copies") and self.has_changes:
            lines.append(f"  note: {SUBDOMAIN_NOTE}")
        if not self.has_changes:
            lines.append("  nothing to change: nothing will be written")
        return "\n".join(lines)

    def _rollback_lines(self) -> list[str]:
        """Every language the rollback adds, removes or restores, HTML and CSS."""
        old = self.page["content"]
        lines: list[str] = []
        for kind, new in (("html", self.html), ("css", self.css)):
            before = old.get(kind, {})
            for lang in sorted(set(before) | set(new)):
                if lang not in before:
                    lines.append(f"  [{lang}] add the language's {kind} (only in the backup)")
                elif lang not in new:
                    lines.append(f"  [{lang}] remove the language's {kind} (not in the backup)")
                elif before[lang] != new[lang]:
                    lines.append(f"  [{lang}] restore the backed-up {kind}")
        return lines

    def audit_changes(self) -> dict[str, Any]:
        return {
            lang: {
                "added": d.missing,
                "removed": d.extra,
                "changed": sorted({c.name for c in d.changed}),
            }
            for lang, d in self.changes.items()
            if not d.in_sync
        }


@dataclass
class Outcome:
    plan: Plan
    written: bool
    backup: Path | None = None
    page: dict[str, Any] | None = None
    messages: list[str] = field(default_factory=list)


SUBDOMAIN_NOTE = (
    "this page has copies on subdomains: the edit reaches every subdomain at once "
    "(--include-subdomains)"
)


def _guard(page: dict[str, Any], slug: str) -> None:
    if page.get("is_archived"):
        raise PublishError(f"page {slug!r} is archived: an archived page cannot be edited")
    if page.get("is_pushed_by_parent"):
        raise PublishError(
            f"page {slug!r} is pushed by a parent domain and cannot be edited here: "
            "edit it on the parent domain, which pushes it to this portal"
        )


def confirm_subdomains(plan: Plan, include_subdomains: bool) -> None:
    """An edit of a page with subdomain copies must be asked for by name."""
    if plan.page.get("has_subdomain_copies") and plan.has_changes and not include_subdomains:
        raise PublishError(
            f"page {plan.slug!r} has copies on subdomains: this edit would change every "
            "subdomain's copy at once; pass --include-subdomains to do so"
        )


def check_writable(config: PortalConfig, registry: Registry) -> None:
    """Built-in legal pages (/terms/...) have no API: say so, give the HTML."""
    if config.page_url and "/terms/" in config.page_url:
        html = "\n".join(render_default(registry, lang) for lang in config.languages)
        raise LegalPageError(
            f"{config.page_url} is a built-in legal page: the Automation API cannot write it. "
            "Paste the HTML printed above in the back office (Configuration > Legal).",
            html,
        )


def plan_publish(client: AutomationClient, config: PortalConfig, registry: Registry) -> Plan:
    """Steps 1-3: read the page (the API copy, what we own), rebuild the drifted
    languages' tables. A page we may not edit is refused only when it drifted."""
    check_writable(config, registry)
    page = client.get_page(config.slug)
    content = page["content"]
    html = dict(content.get("html") or {})
    plan = Plan("publish", client.base_url, config.slug, page, html, dict(content.get("css") or {}))
    plan.publish_step = config.publish_step
    for lang in config.languages:
        if lang not in html:
            raise PublishError(
                f"page {config.slug!r} has no {lang!r} content; its languages are "
                f"{', '.join(html) or 'none'}"
            )
        try:
            parsed = parse_page(html[lang], f"page {config.slug!r} [{lang}]", lang)
        except ParseError as exc:
            raise PublishError(f"{exc}; add a cookie table by hand first") from None
        diff = compare_page(registry, parsed, lang)
        plan.changes[lang] = diff
        if diff.in_sync:
            continue
        spliced = apply_changes(parsed, registry, lang, diff)
        html[lang] = spliced.html
        plan.notes += [f"[{lang}] {n}" for n in spliced.notes]
        # Read back what would be sent: a table that still drifts is worth a word.
        left = compare_page(registry, spliced.page or parsed, lang)
        if not left.in_sync:
            plan.notes.append(
                f"[{lang}] after the rebuild the page would still differ: "
                f"{len(left.missing)} missing, {len(left.extra)} extra, {len(left.changed)} changed"
            )
    if plan.has_changes:
        _guard(page, config.slug)
    return plan


def plan_rollback(
    client: AutomationClient,
    backup: Mapping[str, Any],
    *,
    slug: str,
    to_slug: bool = False,
    force_portal: bool = False,
) -> Plan:
    """Restore a backup onto ``slug``: refused when it was taken on another
    portal (unless ``force_portal``) or of another page (unless ``to_slug``)."""
    saved = backup["page"]
    if host_of(str(backup["portal"])) != host_of(client.base_url) and not force_portal:
        raise PublishError(
            f"the backup was taken on {backup['portal']}, not {client.base_url}: "
            "refusing to restore it here (pass --force-portal to do it anyway)"
        )
    if backup["slug"] != slug and not to_slug:
        raise PublishError(
            f"the backup is of page {backup['slug']!r}, not {slug!r}: refusing to restore it "
            f"there (pass --to-slug {slug} to do it anyway)"
        )
    page = client.get_page(slug)
    _guard(page, slug)
    content = saved["content"]
    plan = Plan(
        "rollback",
        client.base_url,
        slug,
        page,
        dict(content["html"]),
        dict(content.get("css") or {}),
    )
    if backup["portal"] != client.base_url:
        plan.notes.append(f"the backup was taken on {backup['portal']}")
    if backup["slug"] != slug:
        plan.notes.append(f"the backup is of page {backup['slug']!r}")
    return plan


def _differences(page: Mapping[str, Any], body: Mapping[str, Any]) -> list[str]:
    """The fields of ``body`` that ``page`` does not hold as sent."""
    out = [k for k in body if k != "content" and page.get(k) != body[k]]
    for kind in ("html", "css"):
        if page["content"].get(kind, {}) != body["content"].get(kind, {}):
            out.append(f"content.{kind}")
    return out


def _unchanged(now: Mapping[str, Any], read: Mapping[str, Any]) -> bool:
    return bool(
        now.get("updated_at") == read.get("updated_at") and now["content"] == read["content"]
    )


def _editor(page: Mapping[str, Any]) -> str:
    return str((page.get("updated_by") or {}).get("username") or "someone")


def _ensure_unchanged(client: AutomationClient, plan: Plan) -> None:
    """Step 6: the page must be as it was when the plan was made."""
    now = client.get_page(plan.slug)
    if not _unchanged(now, plan.page):
        raise ConcurrentEditError(
            f"the page changed since the plan was made (edited by {_editor(now)} at "
            f"{now.get('updated_at')}): nothing was written; run the command again"
        )


def _settle(client: AutomationClient, plan: Plan, body: Mapping[str, Any]) -> tuple[str, Any]:
    """Read the page back after a PUT whose outcome is unknown: what happened?"""
    page = client.get_page(plan.slug)
    if not _differences(page, body):
        return "applied", page
    if _unchanged(page, plan.page):
        return "not applied", page
    return "changed", page


def _put_answer(client: AutomationClient, resp: Response, slug: str) -> dict[str, Any] | None:
    """The page a successful PUT answered; None when its outcome is unknown.

    4xx answers are definite (the contract says nothing was written): raised.
    """
    if resp.status >= 500 or resp.status == 429:
        return None
    try:
        answer = client.check_put(resp, slug)
    except PortalError:
        if resp.status >= 400:
            raise
        return None  # a 2xx that is not JSON
    return None if page_problem(answer) else answer


def _put(
    client: AutomationClient,
    plan: Plan,
    body: dict[str, Any],
    on_step: Callable[[str], None],
) -> dict[str, Any]:
    """Step 7: PUT; an unknown outcome is settled by reading the page back, and
    the PUT is repeated only when the page provably did not take it."""
    retries = client.transport.settings.retries
    why = ""
    for attempt in range(retries + 1):
        resp: Response | None = None
        try:
            resp = client.put_page(plan.slug, body)
            why = f"the portal answered {resp.status}"
        except FetchError as exc:
            why = f"the answer was lost ({exc})"
        answer = _put_answer(client, resp, plan.slug) if resp is not None else None
        if answer is not None:
            return answer
        if resp is not None and resp.status < 300:
            why = f"the portal answered {resp.status} with something that is not the page"
        state, page = _settle(client, plan, body)
        if state == "applied":
            on_step(f"{why}, but the page read back holds the update")
            return dict(page)
        if state == "changed":
            raise ConcurrentEditError(
                f"{why}; the page read back holds neither the content read before nor the "
                f"update (last saved by {_editor(page)} at {page.get('updated_at')}): "
                "nothing more was written"
            )
        if attempt < retries:
            client.transport.wait(
                attempt, retry_after(resp.headers.get("Retry-After")) if resp is not None else None
            )
    raise PublishError(
        f"{why} after {retries + 1} tries; the page read back is unchanged: nothing was written"
    )


def _verify(
    client: AutomationClient,
    plan: Plan,
    body: Mapping[str, Any],
    answer: Mapping[str, Any],
    backup: Path,
) -> dict[str, Any]:
    """Step 8: what the portal holds is what was sent; if not, say what it holds."""
    page = client.get_page(plan.slug)
    differ = _differences(page, body)
    if not differ:
        return page
    where = (
        f'{backup} holds the page as it was before this update ("page") '
        f'and the update as sent ("sent")'
    )
    if (_editor(page), page.get("updated_at")) != (_editor(answer), answer.get("updated_at")):
        raise ConcurrentEditError(
            f"{_editor(page)} saved the page at {page.get('updated_at')}, right after this "
            f"update was applied at {answer.get('updated_at')}: the portal now holds their "
            f"version, which differs from this update in {', '.join(differ)}; {where}. "
            "Nothing more was written: compare, then run the command again"
        )
    raise PublishError(
        f"verification failed: the page read back differs from what was sent in "
        f"{', '.join(differ)}; {where}; restore it with `ods-charter rollback {backup}`"
    )


def _settle_interrupted(client: AutomationClient, plan: Plan, body: Mapping[str, Any]) -> str:
    try:
        state, _ = _settle(client, plan, body)
    except (OdsCharterError, KeyboardInterrupt):
        return "the page could not be read back: run `ods-charter check` to see what it holds"
    return {
        "applied": "the page read back holds the update",
        "not applied": "the page read back is unchanged: nothing was written (so far)",
        "changed": "the page read back holds neither the old content nor the update",
    }[state]


def execute(
    client: AutomationClient,
    plan: Plan,
    *,
    backup_dir: Path = DEFAULT_BACKUP_DIR,
    audit_log: Path = DEFAULT_AUDIT_LOG,
    on_step: Callable[[str], None] = lambda _: None,
    lock_dir: Path | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT,
) -> Outcome:
    """Steps 5-9 for a confirmed plan, holding the page's lock. Writes nothing
    when the plan changes nothing. Locks live beside the audit log by default
    (``.ods-charter/locks``), in the state directory the run already uses."""
    if not plan.has_changes:
        return Outcome(plan, written=False)
    locks = lock_dir or audit_log.parent / "locks"
    with page_lock(plan.portal, plan.slug, lock_dir=locks, wait=lock_wait):
        return _write(client, plan, backup_dir, audit_log, on_step)


def _write(
    client: AutomationClient,
    plan: Plan,
    backup_dir: Path,
    audit_log: Path,
    on_step: Callable[[str], None],
) -> Outcome:
    body = plan.body()
    backup = write_backup(
        backup_dir,
        portal=plan.portal,
        slug=plan.slug,
        reason=plan.action,
        page=plan.page,
        sent=body,
    )
    on_step(f"backup written: {backup}")
    entry: dict[str, Any] = {
        "id": new_id(),
        "action": plan.action,
        "portal": plan.portal,
        "slug": plan.slug,
        "languages": plan.changed_languages,
        "cookies": plan.audit_changes(),
        "backup": str(backup),
    }
    try:
        audit(audit_log, {**entry, "event": "started"})
    except OSError as exc:
        raise PublishError(
            f"{audit_log}: cannot write the audit log ({exc.strerror or exc}): nothing was written"
        ) from None
    result, sent = "error: stopped before the update was sent", False
    page: dict[str, Any] = {}
    try:
        _ensure_unchanged(client, plan)
        sent = True
        answer = _put(client, plan, body, on_step)
        on_step("update sent")
        if plan.publish_step == "post":
            client.publish_page(plan.slug)
            on_step("published (POST .../publish/)")
        page = _verify(client, plan, body, answer, backup)
        result = "ok"
        on_step(f"verified: the portal holds the new content (updated_at {page.get('updated_at')})")
    except OdsCharterError as exc:
        result = f"error: {exc}"
        raise
    except KeyboardInterrupt:
        result = "interrupted before the update was sent: nothing was written"
        if sent:
            settled = _settle_interrupted(client, plan, body)
            result = f"interrupted while the update was in flight; {settled}"
        raise InterruptedWrite(f"{result}; {backup} holds the page as it was before") from None
    finally:
        lost = _complete(
            audit_log,
            {**entry, "event": "completed", "result": result, "updated_at": page.get("updated_at")},
        )
        if lost and result != "ok":
            on_step(lost)  # the error on its way out comes first; the line is not lost
    if lost:
        raise PublishError(f"the page was updated and verified, but {lost}")
    return Outcome(plan, written=True, backup=backup, page=page)


def _complete(audit_log: Path, record: dict[str, Any]) -> str | None:
    """Write the completing audit line; if the log refuses it, say so and show it."""
    try:
        audit(audit_log, record)
    except OSError as exc:
        line = redact(json.dumps(record, ensure_ascii=False))
        return (
            f"{audit_log}: cannot write the audit log ({exc.strerror or exc}); the line was: {line}"
        )
    return None
