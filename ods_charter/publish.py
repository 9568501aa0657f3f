"""Publishing the registry to the charter page, safely.

The order of a write is fixed: read, plan, confirm, back up, read again and
refuse if the page moved, PUT (retried only where it is safe), read back and
verify, then record it in the audit log. Rollback follows the same path.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ods_charter.config import PortalConfig
from ods_charter.diff import LanguageDiff, compare_page
from ods_charter.errors import (
    ConcurrentEditError,
    ConfigError,
    FetchError,
    OdsCharterError,
    ParseError,
    PublishError,
)
from ods_charter.html.parse import parse_page
from ods_charter.html.render import render_default
from ods_charter.html.splice import apply_changes
from ods_charter.portal import WRITABLE_FIELDS, AutomationClient
from ods_charter.registry import Registry, atomic_write
from ods_charter.secrets import redact
from ods_charter.transport import RETRY_STATUSES, retry_after

STATE_DIR = Path(".ods-charter")
DEFAULT_BACKUP_DIR = STATE_DIR / "backups"
DEFAULT_AUDIT_LOG = STATE_DIR / "audit.jsonl"
BACKUP_FORMAT = 1


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
            lines += [
                f"  [{lang}] restore the backed-up content" for lang in self.changed_languages
            ]
        lines += [f"  note: {n}" for n in self.notes]
        if self.page.get("has_subdomain_copies") and self.has_changes:
            lines.append(f"  note: {SUBDOMAIN_NOTE}")
        if not self.has_changes:
            lines.append("  nothing to change: nothing will be written")
        return "\n".join(lines)

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


def read_backup(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: backup file not found") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable backup ({exc})") from None
    page = data.get("page") if isinstance(data, dict) else None
    if (
        not isinstance(page, dict)
        or data.get("format") != BACKUP_FORMAT
        or not isinstance(page.get("content"), dict)
        or not isinstance(page["content"].get("html"), dict)
        or not isinstance(page["content"].get("css", {}), dict)
    ):
        raise ConfigError(f"{path}: not an ods-charter backup (expected format {BACKUP_FORMAT})")
    return dict(data)


def plan_rollback(
    client: AutomationClient, backup: Mapping[str, Any], *, force: bool = False
) -> Plan:
    saved = backup["page"]
    slug = str(saved.get("slug") or backup.get("slug"))
    page = client.get_page(slug)
    _guard(page, slug)
    content = saved["content"]
    plan = Plan(
        "rollback",
        client.base_url,
        slug,
        page,
        dict(content.get("html") or {}),
        dict(content.get("css") or {}),
    )
    if backup.get("portal") and backup["portal"] != client.base_url:
        plan.notes.append(f"the backup was taken on {backup['portal']}")
    return plan


def write_backup(plan: Plan, backup_dir: Path) -> Path:
    """Step 5: the page as read, one private file per write."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = backup_dir / f"{plan.slug}-{stamp}.json"
    backup_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(backup_dir, 0o700)
    data = {
        "format": BACKUP_FORMAT,
        "portal": plan.portal,
        "slug": plan.slug,
        "saved_at": datetime.now(UTC).isoformat(),
        "reason": plan.action,
        "page": plan.page,
    }
    atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n", mode=0o600)
    return path


def _content(page: Mapping[str, Any]) -> tuple[Any, Any]:
    content = page.get("content") or {}
    return content.get("html"), content.get("css")


def _ensure_unchanged(client: AutomationClient, plan: Plan) -> None:
    """Step 6: the page must be as it was when the plan was made."""
    now = client.get_page(plan.slug)
    if now.get("updated_at") != plan.page.get("updated_at") or _content(now) != _content(plan.page):
        who = (now.get("updated_by") or {}).get("username", "someone")
        raise ConcurrentEditError(
            f"the page changed since the plan was made (edited by {who} at "
            f"{now.get('updated_at')}): nothing was written; run the command again"
        )


def _put(client: AutomationClient, plan: Plan) -> dict[str, Any]:
    """Step 7: PUT, retried only when the page provably did not take it."""
    body = plan.body()
    sent = (body["content"]["html"], body["content"]["css"])
    settings = client.transport.settings
    for attempt in range(settings.retries + 1):
        last = attempt == settings.retries
        try:
            resp = client.put_page(plan.slug, body)
        except FetchError:
            resp = None  # the answer was lost: the write may or may not have happened
        if resp is not None and not (resp.status in RETRY_STATUSES and not last):
            return client.check_put(resp, plan.slug)
        current = client.get_page(plan.slug)
        if _content(current) == sent:
            return current  # it was applied; only the answer went missing
        if current.get("updated_at") != plan.page.get("updated_at"):
            raise ConcurrentEditError(
                "the page changed while the update was in flight: nothing more was written"
            )
        if last:
            break
        client.transport.wait(
            attempt, retry_after(resp.headers.get("Retry-After")) if resp is not None else None
        )
    raise PublishError("the portal did not take the update after retries: nothing was written")


def _verify(client: AutomationClient, plan: Plan) -> dict[str, Any]:
    """Step 8: what the portal holds is what was sent."""
    page = client.get_page(plan.slug)
    if _content(page) != (plan.html, plan.css):
        raise PublishError(
            "verification failed: the page read back differs from what was sent; "
            "the backup can be restored with `ods-charter rollback`"
        )
    return page


def audit(path: Path, entry: dict[str, Any]) -> None:
    """Step 9: one JSON line per write attempt; never holds the key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = redact(json.dumps({"time": datetime.now(UTC).isoformat(), **entry}, ensure_ascii=False))
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def execute(
    client: AutomationClient,
    plan: Plan,
    *,
    backup_dir: Path = DEFAULT_BACKUP_DIR,
    audit_log: Path = DEFAULT_AUDIT_LOG,
    on_step: Callable[[str], None] = lambda _: None,
) -> Outcome:
    """Steps 5-9 for a confirmed plan. Writes nothing when the plan changes nothing."""
    if not plan.has_changes:
        return Outcome(plan, written=False)
    backup = write_backup(plan, backup_dir)
    on_step(f"backup written: {backup}")
    entry: dict[str, Any] = {
        "action": plan.action,
        "portal": plan.portal,
        "slug": plan.slug,
        "languages": plan.changed_languages,
        "cookies": plan.audit_changes(),
        "backup": str(backup),
    }
    try:
        _ensure_unchanged(client, plan)
        _put(client, plan)
        on_step("update sent")
        if plan.publish_step == "post":
            client.publish_page(plan.slug)
            on_step("published (POST .../publish/)")
        page = _verify(client, plan)
        on_step(f"verified: the portal holds the new content (updated_at {page.get('updated_at')})")
    except OdsCharterError as exc:
        audit(audit_log, {**entry, "result": f"error: {exc}"})
        raise
    audit(audit_log, {**entry, "result": "ok", "updated_at": page.get("updated_at")})
    return Outcome(plan, written=True, backup=backup, page=page)
