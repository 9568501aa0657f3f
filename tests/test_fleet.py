"""Several portals at once: one summary, the worst exit code, no portal hiding another."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ods_charter.config import PortalConfig
from ods_charter.fleet import PortalSummary, check_task, run_fleet
from ods_charter.registry import Registry
from ods_charter.simulator import Simulator

from .conftest import API_KEY, edit_charter, write_config


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[list[Simulator]]:
    sims = [Simulator(api_key=API_KEY, state_dir=tmp_path / f"sim{i}").start() for i in range(3)]
    yield sims
    for sim in sims:
        sim.stop()


def _configs(tmp_path: Path, sims: list[Simulator]) -> list[Path]:
    return [
        write_config(
            tmp_path / "config" / "portals" / f"p{i}",
            sim.base_url,
            name=f"p{i}",
            key_env=f"ODS_API_KEY_P{i}",
        )
        for i, sim in enumerate(sims)
    ]


def test_check_several_portals(cli, tmp_path: Path, farm: list[Simulator]) -> None:  # type: ignore[no-untyped-def]
    configs = _configs(tmp_path, farm)
    edit_charter(farm[1], "fr", "Se souvenir de la langue du visiteur", "Langue")
    args = [a for c in configs for a in ("--config", str(c))]
    result = cli("check", *args, "--jobs", "2", "--format", "json")
    assert result.code == 1, result.all
    report = json.loads(result.out)
    assert [p["status"] for p in report["portals"]] == ["ok", "drift", "ok"]
    assert report["portals"][1]["changed"] == 1


def test_one_portal_failing_never_stops_the_others(
    cli, tmp_path: Path, farm: list[Simulator]
) -> None:  # type: ignore[no-untyped-def]
    configs = _configs(tmp_path, farm)
    farm[0].stop()  # down
    broken = tmp_path / "broken.toml"
    broken.write_text("[portal]\nbase_url = \n")
    args = [a for c in [*configs, broken] for a in ("--config", str(c))]
    result = cli("check", *args)
    assert result.code == 2
    lines = result.out.splitlines()
    assert lines[0].split() == ["portal", "status", "missing", "extra", "changed", "error"]
    assert [line.split()[1] for line in lines[2:]] == ["error", "ok", "ok", "error"]
    assert lines[2].startswith("p0 ") and "cannot connect" in lines[2]
    assert lines[5].startswith("broken ") and "invalid TOML" in lines[5]


def test_all_reads_config_portals(cli, tmp_path: Path, farm: list[Simulator]) -> None:  # type: ignore[no-untyped-def]
    portals = tmp_path / "config" / "portals"
    for i, sim in enumerate(farm):
        write_config(portals / f"p{i}", sim.base_url)
        (portals / f"p{i}.toml").write_text(
            (portals / f"p{i}" / "portal.toml")
            .read_text()
            .replace("[page]", f'[registry]\npath = "p{i}/registry.toml"\n[page]')
        )
    main = tmp_path / "config" / "portal.toml"
    main.write_text("")
    result = cli("check", "--all", "--config", main, "--format", "markdown")
    assert result.code == 0, result.all
    assert result.out.count("| ok |") == 3
    assert cli("scan", "--all", "--config", main).code == 0


def test_all_without_portals_dir_is_a_clear_error(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--all", "--config", tmp_path / "portal.toml")
    assert result.code == 2 and "no portal configuration" in result.err


def test_sync_several_portals_needs_yes(
    cli, tmp_path: Path, farm: list[Simulator], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    for i in range(len(farm)):
        monkeypatch.setenv(f"ODS_API_KEY_P{i}", API_KEY)
    configs = _configs(tmp_path, farm)
    for sim in farm:
        edit_charter(sim, "fr", "Se souvenir de la langue du visiteur", "Langue")
    args = [a for c in configs for a in ("--config", str(c))]
    assert cli("sync", *args).code == 2
    monkeypatch.chdir(tmp_path)
    result = cli("sync", *args, "--yes", "--jobs", "3")
    assert result.code == 0, result.all
    assert all(sum(r["method"] == "PUT" for r in sim.requests) == 1 for sim in farm)


# Tasks cross to worker processes by pickling, so they live at module level.
def _check_telling_pid(config: PortalConfig, registry: Registry) -> PortalSummary:
    summary = check_task(config, registry)
    summary.error = str(os.getpid())
    return summary


def _die_after_flag(config: PortalConfig, registry: Registry) -> PortalSummary:
    if config.name != "p0":
        return check_task(config, registry)
    # Die only once p1's result reached the parent: its result must survive.
    flag = config.source.parent.parent / "p1-done"
    deadline = time.monotonic() + 30
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    os._exit(3)  # a worker killed mid-run (out of memory, a crash in C code)


def test_fleet_spreads_portals_over_worker_processes(tmp_path: Path, farm: list[Simulator]) -> None:
    configs = _configs(tmp_path, farm) * 2  # six portals, three distinct pages
    edit_charter(farm[1], "fr", "Se souvenir de la langue du visiteur", "Langue")
    for sim in farm:  # slow enough that one worker cannot finish both shares alone
        sim.faults.arm({"latency": 0.2})
    seen: list[str] = []
    summaries = run_fleet(
        configs, _check_telling_pid, jobs=4, processes=2, on_done=lambda s: seen.append(s.portal)
    )
    assert [s.status for s in summaries] == ["ok", "drift", "ok"] * 2
    assert [s.portal for s in summaries] == ["p0", "p1", "p2"] * 2
    pids = {s.error for s in summaries}
    assert len(pids) == 2 and str(os.getpid()) not in pids
    assert sorted(seen) == sorted(s.portal for s in summaries)  # progress came back here


def test_a_dying_worker_costs_only_its_unfinished_portals(
    tmp_path: Path, farm: list[Simulator]
) -> None:
    configs = _configs(tmp_path, farm[:2])
    flag = tmp_path / "config" / "portals" / "p1-done"

    def done(summary: PortalSummary) -> None:
        if summary.portal == "p1":
            flag.touch()

    summaries = run_fleet(configs, _die_after_flag, jobs=2, processes=2, on_done=done)
    assert summaries[1].status == "ok"
    assert summaries[0].status == "error" and summaries[0].config == str(configs[0])
    assert "worker process ended before this portal finished" in (summaries[0].error or "")


def test_processes_must_be_positive(cli, tmp_path: Path, farm: list[Simulator]) -> None:  # type: ignore[no-untyped-def]
    args = [a for c in _configs(tmp_path, farm) for a in ("--config", str(c))]
    result = cli("check", *args, "--processes", "0")
    assert result.code == 2 and "--processes must be at least 1" in result.err
