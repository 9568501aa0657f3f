"""Many portals at once: worker processes (one per core) each running a bounded
thread pool; one portal's failure never stops the others."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
    wait,
)
from dataclasses import dataclass, field
from functools import lru_cache
from multiprocessing import SimpleQueue
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


Chunk = list[tuple[int, Path]]
Report = Callable[[int, PortalSummary], None]


def _run_chunk(
    chunk: Chunk, task: Task, threads: int, base_url: str | None, report: Report
) -> None:
    """Run one process's share of the portals, ``threads`` at a time.

    Only a window of portals is submitted at once, so that memory does not
    grow with the number of portals (a pending future weighs about 1 KB).
    """
    running: dict[Future[PortalSummary], int] = {}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for index, path in chunk:
            if len(running) >= 2 * threads:  # twice: no thread waits for the next portal
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    report(running.pop(future), future.result())
            running[pool.submit(_run_one, path, task, base_url)] = index
        for future in as_completed(running):
            report(running[future], future.result())


# A worker process sends each finished portal to the parent at once: the parent
# shows progress as it goes and keeps every result a worker sent before dying.
_results: SimpleQueue[tuple[int, PortalSummary] | None] | None = None


def _init_worker(results: SimpleQueue[tuple[int, PortalSummary] | None]) -> None:
    global _results
    _results = results


def _send(index: int, summary: PortalSummary) -> None:
    assert _results is not None, "_init_worker runs first in every worker"
    _results.put((index, summary))


def _worker(chunk: Chunk, task: Task, threads: int, base_url: str | None) -> None:
    _run_chunk(chunk, task, threads, base_url, _send)


def default_processes() -> int:
    """One per core this process may run on (a container may allow fewer than exist)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def run_fleet(
    configs: Sequence[Path],
    task: Task,
    *,
    jobs: int = 8,
    processes: int | None = None,
    base_url: str | None = None,
    on_done: Callable[[PortalSummary], None] = lambda _: None,
) -> list[PortalSummary]:
    """Run ``task`` for every portal, at most ``jobs`` at once in all, spread over
    ``processes`` worker processes (default: one per core); results in config order.

    ``task`` crosses to the workers by pickling: a module-level function (or a
    ``functools.partial`` of one), never a closure. ``on_done`` runs in this
    process, once per portal, as each finishes.
    """
    if jobs < 1:
        raise ConfigError("--jobs must be at least 1")
    if processes is not None and processes < 1:
        raise ConfigError("--processes must be at least 1")
    indexed = list(enumerate(configs))
    results: dict[int, PortalSummary] = {}

    def report(index: int, summary: PortalSummary) -> None:
        results[index] = summary
        on_done(summary)

    count = max(1, min(processes or default_processes(), jobs, len(indexed)))
    if count == 1:
        _run_chunk(indexed, task, min(jobs, len(indexed)) or 1, base_url, report)
        return [results[i] for i, _ in indexed]
    # Round-robin shares balance slow and fast portals listed side by side;
    # the threads add up to exactly ``jobs``.
    shares = [(indexed[i::count], jobs // count + (i < jobs % count)) for i in range(count)]
    queue: SimpleQueue[tuple[int, PortalSummary] | None] = SimpleQueue()
    with ProcessPoolExecutor(count, initializer=_init_worker, initargs=(queue,)) as pool:
        futures = [
            pool.submit(_worker, share, task, threads, base_url) for share, threads in shares
        ]

        def finished(_: Future[None]) -> None:
            # SimpleQueue.put writes before it returns, so this None follows
            # every result; it may be put twice, which is harmless.
            if all(f.done() for f in futures):
                queue.put(None)

        for future in futures:
            future.add_done_callback(finished)
        while (item := queue.get()) is not None:
            report(*item)
    crashed = sorted({type(e).__name__ for f in futures if (e := f.exception()) is not None})
    for index, path in indexed:
        if index not in results:  # its worker died: killed, out of memory, crashed
            error = f"the worker process ended before this portal finished ({', '.join(crashed)})"
            report(index, PortalSummary(path.stem, str(path), "error", error=error))
    return [results[i] for i, _ in indexed]


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


def api_check_task(config: PortalConfig, registry: Registry) -> PortalSummary:
    """``check --source api`` for one portal of a fleet: its own key, or refused."""
    from ods_charter.charter import run_check
    from ods_charter.portal import AutomationClient

    client = AutomationClient.for_portal(config, fleet=True)
    try:
        return summarize_check(config, run_check(config, registry, client=client))
    finally:
        client.transport.close()


def scan_task(config: PortalConfig, registry: Registry, browser: bool = False) -> PortalSummary:
    """``scan`` for one portal of a fleet: one count per kind of finding the scan
    can make, the most severe first (a browser visit finds three more kinds)."""
    from ods_charter.scan import BROWSER_ONLY, FINDING_KINDS, scan, scan_with_browser

    result = scan(config, registry)
    if browser:
        result = scan_with_browser(config, registry, result)
    found = [f.kind for f in result.findings]
    kinds = [k for k in FINDING_KINDS if browser or k not in BROWSER_ONLY]
    return PortalSummary(
        config.name,
        str(config.source),
        "findings" if result.exit_code else "ok",
        counts={kind: found.count(kind) for kind in kinds},
        detail={"portal": config.name, **result.as_dict()},
    )


def browser_scan_task(config: PortalConfig, registry: Registry) -> PortalSummary:
    """``scan --browser`` for one portal of a fleet (a named function: tasks are pickled)."""
    return scan_task(config, registry, browser=True)


def fleet_exit_code(summaries: Sequence[PortalSummary]) -> ExitCode:
    """2 if any portal errored, else 1 if any drifted, else 0."""
    return ExitCode.worst([s.exit_code for s in summaries])
