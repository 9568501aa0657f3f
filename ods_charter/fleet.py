"""Many portals at once: a bounded pool, one portal's failure never stops the others."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from ods_charter.config import PortalConfig, load_config
from ods_charter.diff import CheckResult
from ods_charter.errors import ConfigError, OdsCharterError
from ods_charter.registry import Registry, load_registry
from ods_charter.secrets import redact


@dataclass
class PortalSummary:
    portal: str
    config: str
    status: str  # ok | drift | findings | error
    missing: int = 0
    extra: int = 0
    changed: int = 0
    error: str | None = None

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "error": 2}.get(self.status, 1)


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
        missing=sum(len(d.missing) for d in diffs),
        extra=sum(len(d.extra) for d in diffs),
        changed=sum(len(d.changed) for d in diffs),
    )


def check_task(config: PortalConfig, registry: Registry) -> PortalSummary:
    from ods_charter.charter import run_check

    return summarize_check(config, run_check(config, registry))


def api_check_task(config: PortalConfig, registry: Registry) -> PortalSummary:
    """``check --source api`` for one portal of a fleet: its own key, or refused."""
    from ods_charter.charter import run_check
    from ods_charter.portal import AutomationClient

    client = AutomationClient.for_portal(config, fleet=True)
    try:
        return summarize_check(config, run_check(config, registry, client=client))
    finally:
        client.transport.close()


def scan_task(config: PortalConfig, registry: Registry) -> PortalSummary:
    from ods_charter.scan import scan

    result = scan(config, registry)
    kinds = [f.kind for f in result.findings]
    return PortalSummary(
        config.name,
        str(config.source),
        "findings" if result.exit_code else "ok",
        missing=kinds.count("not_seen"),
        extra=kinds.count("undeclared"),
        changed=kinds.count("lifetime") + kinds.count("insecure"),
    )


def fleet_exit_code(summaries: Sequence[PortalSummary]) -> int:
    """2 if any portal errored, else 1 if any drifted, else 0."""
    codes = {s.exit_code for s in summaries}
    return 2 if 2 in codes else 1 if 1 in codes else 0


_COLUMNS = ("portal", "status", "missing", "extra", "changed", "error")


def format_fleet(summaries: Sequence[PortalSummary], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(
            {"status": fleet_exit_code(summaries), "portals": [asdict(s) for s in summaries]},
            ensure_ascii=False,
            indent=2,
        )
    rows = [
        [str(getattr(s, c) if getattr(s, c) is not None else "") for c in _COLUMNS]
        for s in summaries
    ]
    if fmt == "markdown":
        lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(_COLUMNS)]
    widths[-1] = len(_COLUMNS[-1])  # the error column runs free, never padded

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(_COLUMNS), line(["-" * w for w in widths]), *map(line, rows)])
