"""Many portals at once: a bounded pool, one portal's failure never stops the others."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ods_charter.config import PortalConfig, load_config
from ods_charter.diff import CheckResult
from ods_charter.errors import ConfigError, OdsCharterError
from ods_charter.exitcode import ExitCode
from ods_charter.registry import Registry, load_registry
from ods_charter.secrets import redact


@dataclass
class PortalSummary:
    portal: str
    config: str
    status: str  # ok | drift | findings | error
    # What was found, by kind: missing/extra/changed for a check, the finding
    # kinds for a scan; each kind is its own column in the fleet table.
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # the one-portal JSON document

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.for_status(self.status)

    def as_dict(self) -> dict[str, Any]:
        """The one-portal JSON document, with the config, the error and the counts."""
        return {
            **self.detail,
            "portal": self.portal,
            "config": self.config,
            "status": self.status,
            "error": self.error,
            **self.counts,
        }


Task = Callable[[PortalConfig, Registry], PortalSummary]


def portal_configs(configs: Sequence[Path], use_all: bool) -> list[Path]:
    """The configs named, or with ``--all`` every ``portals/*.toml`` beside the first."""
    if not use_all:
        return list(configs)
    directory = configs[0].parent / "portals"
    found = sorted(directory.glob("*.toml"))
    if not found:
        raise ConfigError(f"--all: no portal configuration in {directory}/*.toml")
    return found


@lru_cache(maxsize=64)
def _registry(path: Path, mtime_ns: int) -> Registry:
    """Portals of one organisation often share a registry: read it once per version."""
    return load_registry(path)


def _run_one(path: Path, task: Task, base_url: str | None) -> PortalSummary:
    name = path.stem
    try:
        config = load_config(path).with_base_url(base_url)
        name = config.name
        registry_path = config.registry_path.resolve()
        try:
            mtime = registry_path.stat().st_mtime_ns
        except OSError:
            mtime = -1  # load_registry reports the missing file properly
        return task(config, _registry(registry_path, mtime))
    except OdsCharterError as exc:
        return PortalSummary(name, str(path), "error", error=redact(str(exc)))
    except Exception as exc:  # one portal's bug must not hide the others' results
        message = redact(f"unexpected {type(exc).__name__}: {exc}")
        return PortalSummary(name, str(path), "error", error=message)


def run_fleet(
    configs: Sequence[Path],
    task: Task,
    *,
    jobs: int = 8,
    base_url: str | None = None,
    on_done: Callable[[PortalSummary], None] = lambda _: None,
) -> list[PortalSummary]:
    """Run ``task`` for every portal with at most ``jobs`` at once; results in config order."""
    if jobs < 1:
        raise ConfigError("--jobs must be at least 1")
    results: dict[Path, PortalSummary] = {}
    with ThreadPoolExecutor(max_workers=min(jobs, len(configs)) or 1) as pool:
        futures = {pool.submit(_run_one, path, task, base_url): path for path in configs}
        for future in as_completed(futures):
            summary = future.result()
            results[futures[future]] = summary
            on_done(summary)
    return [results[path] for path in configs]


def summarize_check(config: PortalConfig, result: CheckResult) -> PortalSummary:
    diffs = result.languages.values()
    return PortalSummary(
        config.name,
        str(config.source),
        result.status,
        counts={
            "missing": sum(len(d.missing) for d in diffs),
            "extra": sum(len(d.extra) for d in diffs),
            "changed": sum(len(d.changed) for d in diffs),
        },
        detail={"portal": config.name, **result.as_dict()},
    )


def check_task(config: PortalConfig, registry: Registry) -> PortalSummary:
    from ods_charter.charter import run_check

    return summarize_check(config, run_check(config, registry))


SCAN_KINDS = ("undeclared", "lifetime", "insecure", "not_seen")


def scan_task(config: PortalConfig, registry: Registry) -> PortalSummary:
    from ods_charter.scan import scan

    result = scan(config, registry)
    kinds = [f.kind for f in result.findings]
    return PortalSummary(
        config.name,
        str(config.source),
        "findings" if result.exit_code else "ok",
        counts={kind: kinds.count(kind) for kind in SCAN_KINDS},
        detail={"portal": config.name, **result.as_dict()},
    )


def fleet_exit_code(summaries: Sequence[PortalSummary]) -> ExitCode:
    """2 if any portal errored, else 1 if any drifted, else 0."""
    return ExitCode.worst([s.exit_code for s in summaries])
