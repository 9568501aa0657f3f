"""``sync``: check, publish when the page drifted, check again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ods_charter.charter import run_check
from ods_charter.config import PortalConfig
from ods_charter.diff import CheckResult
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
    before: CheckResult
    plan: Plan | None = None
    published: Outcome | None = None
    after: CheckResult | None = None

    @property
    def final(self) -> CheckResult:
        return self.after or self.before

    @property
    def exit_code(self) -> int:
        return self.final.exit_code


def sync(
    config: PortalConfig,
    registry: Registry,
    client: AutomationClient,
    *,
    confirm: Callable[[Plan], bool],
    dry_run: bool = False,
    force: bool = False,
    backup_dir: Path = DEFAULT_BACKUP_DIR,
    audit_log: Path = DEFAULT_AUDIT_LOG,
    on_step: Callable[[str], None] = lambda _: None,
) -> SyncOutcome:
    """Bring the live charter in line with the registry; idempotent."""
    before = run_check(config, registry, transport=client.transport)
    outcome = SyncOutcome(before)
    if before.status == "ok":
        on_step("the live page already matches the registry: nothing to do")
        return outcome
    outcome.plan = plan = plan_publish(client, config, registry, force=force)
    on_step(plan.summary())
    if not plan.has_changes or dry_run or not confirm(plan):
        return outcome
    outcome.published = execute(
        client, plan, backup_dir=backup_dir, audit_log=audit_log, on_step=on_step
    )
    outcome.after = run_check(config, registry, transport=client.transport)
    return outcome
