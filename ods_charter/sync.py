"""``sync``: decide from the API copy, publish when it drifted, then look at the
public page separately (what visitors see)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ods_charter.charter import check_api_copy
from ods_charter.config import PortalConfig
from ods_charter.diff import CheckResult
from ods_charter.fleet import PortalSummary, summarize_check
from ods_charter.live import LiveCheck, compare_live
from ods_charter.portal import AutomationClient
from ods_charter.publish import (
    DEFAULT_AUDIT_LOG,
    DEFAULT_BACKUP_DIR,
    Outcome,
    Plan,
    execute,
    plan_publish,
)
from ods_charter.registry import Registry


@dataclass
class SyncOutcome:
    before: CheckResult  # the API copy as read
    plan: Plan | None = None
    published: Outcome | None = None
    after: CheckResult | None = None  # the API copy once written
    live: LiveCheck | None = None  # the public page against the API copy

    @property
    def final(self) -> CheckResult:
        return self.after or self.before

    @property
    def exit_code(self) -> int:
        return max(self.final.exit_code, self.live.exit_code if self.live else 0)

    def summary(self, config: PortalConfig) -> PortalSummary:
        """One row of a fleet table; a public page that differs shows as drift."""
        row = summarize_check(config, self.final)
        problems = [f.message for f in self.live.findings if f.problem] if self.live else []
        if problems and row.status == "ok":
            row.status, row.error = "drift", f"public page: {problems[0]}"
        return row


def sync(
    config: PortalConfig,
    registry: Registry,
    client: AutomationClient,
    *,
    confirm: Callable[[Plan], bool],
    dry_run: bool = False,
    verify_live: bool = True,
    backup_dir: Path = DEFAULT_BACKUP_DIR,
    audit_log: Path = DEFAULT_AUDIT_LOG,
    on_step: Callable[[str], None] = lambda _: None,
) -> SyncOutcome:
    """Bring the charter in line with the registry; idempotent.

    The API copy decides (it is what a write changes); the public page is
    then compared with it, and a difference is reported with its likely cause.
    """
    plan = plan_publish(client, config, registry)
    outcome = SyncOutcome(check_api_copy(config, registry, plan.page, client.base_url), plan)
    page = plan.page
    if not plan.has_changes:
        on_step("the API copy already matches the registry: nothing to do")
    else:
        on_step(plan.summary())
        if dry_run or not confirm(plan):
            return outcome
        outcome.published = execute(
            client, plan, backup_dir=backup_dir, audit_log=audit_log, on_step=on_step
        )
        page = outcome.published.page or client.get_page(config.slug)
        outcome.after = check_api_copy(config, registry, page, client.base_url)
    if verify_live:
        outcome.live = compare_live(config, page, client.transport)
        on_step(outcome.live.text())
    return outcome
