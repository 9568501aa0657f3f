"""What publish, sync and rollback tell: the plan, the outcome, the backups."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ods_charter.exitcode import ExitCode
from ods_charter.publish import Outcome, Plan
from ods_charter.reports.plain import paint
from ods_charter.sync import SyncOutcome


def colour_diff(diff: str, color: bool) -> str:
    """A unified diff with removed lines red, added lines green, hunks dim."""
    if not color:
        return diff
    out = []
    for line in diff.splitlines(keepends=True):
        body, end = line.rstrip("\n"), line[len(line.rstrip("\n")) :]
        if line.startswith(("+++", "---")):
            out.append(paint(body, "bold", True) + end)
        elif line.startswith("+"):
            out.append(paint(body, "green", True) + end)
        elif line.startswith("-"):
            out.append(paint(body, "red", True) + end)
        elif line.startswith("@@"):
            out.append(paint(body, "dim", True) + end)
        else:
            out.append(line)
    return "".join(out)


def plan_outcome(plan: Plan, outcome: Outcome | None, *, dry_run: bool) -> tuple[str, ExitCode]:
    """The status word and exit code of a publish or rollback (terraform-like)."""
    if not plan.has_changes:
        return "nothing_to_do", ExitCode.OK
    if dry_run:
        return "pending", ExitCode.CHANGES
    if outcome is None:
        return "declined", ExitCode.CHANGES
    return "written", ExitCode.OK


def plan_document(plan: Plan, status: str, outcome: Outcome | None = None) -> dict[str, Any]:
    return {
        "status": status,
        "action": plan.action,
        "portal": plan.portal,
        "slug": plan.slug,
        "languages": plan.changed_languages,
        "changes": plan.audit_changes(),
        "notes": plan.notes,
        "backup": str(outcome.backup) if outcome and outcome.backup else None,
        "diff": plan.html_diff(),
    }


def plan_json(plan: Plan, status: str, outcome: Outcome | None = None) -> str:
    return json.dumps(plan_document(plan, status, outcome), ensure_ascii=False, indent=2)


def sync_exit_code(outcome: SyncOutcome, *, dry_run: bool) -> ExitCode:
    """0 in sync, 1 drift left or (dry run) changes pending, 2 error."""
    if dry_run and outcome.plan is not None and outcome.plan.has_changes:
        return ExitCode.CHANGES
    return ExitCode(outcome.exit_code)


def sync_json(outcome: SyncOutcome, *, dry_run: bool) -> str:
    plan = None
    if outcome.plan is not None:
        status, _ = plan_outcome(outcome.plan, outcome.published, dry_run=dry_run)
        plan = plan_document(outcome.plan, status, outcome.published)
    doc = {
        "status": outcome.final.status,
        "before": outcome.before.as_dict(),
        "plan": plan,
        "after": outcome.after.as_dict() if outcome.after else None,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    portal: str
    slug: str
    saved_at: str
    reason: str


def list_backups_in(folder: Path) -> list[BackupInfo]:
    """The readable backups in ``folder``, oldest first."""
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or "page" not in data:
            continue
        found.append(
            BackupInfo(
                path,
                str(data.get("portal", "")),
                str(data.get("slug", "")),
                str(data.get("saved_at", "")),
                str(data.get("reason", "")),
            )
        )
    return sorted(found, key=lambda b: (b.saved_at, b.path.name))


def backups_text(backups: list[BackupInfo], folder: Path) -> str:
    if not backups:
        return f"no backups in {folder}"
    return "\n".join(f"{b.saved_at}  {b.portal}  {b.slug}  ({b.reason})  {b.path}" for b in backups)


def backups_json(backups: list[BackupInfo]) -> str:
    rows = [{**b.__dict__, "path": str(b.path)} for b in backups]
    return json.dumps({"backups": rows}, ensure_ascii=False, indent=2)
