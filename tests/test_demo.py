"""The README's main command."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .conftest import ROOT


def test_demo_runs_the_whole_cycle_and_leaves_nothing(cli, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # From an empty folder, with a temporary folder of its own to watch.
    work, scratch = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    scratch.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    result = cli("demo")
    assert result.code == 0, result.all
    assert "drift:" in result.out and "missing from the page: cookies_preferences" in result.out
    assert "in sync:" in result.out
    assert "every step behaved as expected" in result.out
    assert "PUT requests received by the portal in all: 1" in result.out
    assert list(scratch.iterdir()) == [] and list(work.iterdir()) == []


def test_demo_ships_the_projects_registry() -> None:
    # The demo's registry is the package's copy of config/registry.toml.
    shipped = ROOT / "ods_charter" / "data" / "registry.toml"
    assert shipped.read_text(encoding="utf-8") == (ROOT / "config" / "registry.toml").read_text(
        encoding="utf-8"
    )


def test_help_lists_every_command(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("--help").out
    for command in (
        "fetch",
        "parse",
        "check",
        "import",
        "validate",
        "render",
        "publish",
        "sync",
        "rollback",
        "simulator",
        "demo",
    ):
        assert command in out


def test_usage_errors_exit_2(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--no-such-option")
    assert result.code == 2 and "No such option" in result.err
