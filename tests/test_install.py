"""The first hour, as a new user lives it: ``pip install`` the checkout (not
editable) into a fresh venv, then, in an empty folder, run the installed
``ods-charter`` against the simulator, the way the README tells."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from ods_charter.simulator import Simulator

from .conftest import API_KEY, ROOT, edit_charter


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The console script of a venv holding nothing but ``pip install <checkout>``."""
    env_dir = tmp_path_factory.mktemp("fresh-venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--disable-pip-version-check", str(ROOT)], check=True)
    return env_dir / "bin" / "ods-charter"


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "new-user"
    folder.mkdir()
    yield folder


def _runner(script: Path, cwd: Path):  # type: ignore[no-untyped-def]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ODS_", "PYTHON"))}

    def run(*args: str, key: bool = False) -> subprocess.CompletedProcess[str]:
        env = {**base, "ODS_API_KEY": API_KEY} if key else base
        return subprocess.run(
            [str(script), *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    return run


def test_from_pip_install_to_a_synced_portal(installed: Path, empty: Path, tmp_path: Path) -> None:
    run = _runner(installed, empty)
    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("ods-charter ")

    demo = run("demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "every step behaved as expected" in demo.stdout
    assert list(empty.iterdir()) == []  # nothing left behind

    with Simulator(api_key=API_KEY, state_dir=tmp_path / "portal") as sim:
        init = run("init", sim.base_url)
        assert init.returncode == 0, init.stderr
        assert sorted(p.name for p in (empty / "config").iterdir()) == [
            "portal.toml",
            "registry.toml",
        ]
        assert run("check").returncode == 0
        edit_charter(sim, "fr", "Se souvenir de la langue du visiteur", "Langue")
        drift = run("check")
        assert drift.returncode == 1 and "django_language" in drift.stdout
        assert run("publish", "--dry-run", key=True).returncode == 1
        published = run("publish", "--yes", key=True)
        assert published.returncode == 0, published.stdout + published.stderr
        assert run("check").returncode == 0
        edit_charter(sim, "fr", "Récupérer des données", "Lire des données")
        assert run("sync", "--dry-run", key=True).returncode == 1
        synced = run("sync", "--yes", key=True)
        assert synced.returncode == 0, synced.stdout + synced.stderr
        assert run("sync", "--dry-run", key=True).returncode == 0
        assert sum(r["method"] == "PUT" for r in sim.requests) == 2
    assert sys.prefix not in str(installed)  # the venv under test is not ours
