"""Shared fixtures: the portal simulator on loopback, a project pointing at it,
and a way to run the real CLI in-process and read what a user would see."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ods_charter.cli import main
from ods_charter.simulator import Simulator

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAGES = FIXTURES / "pages"
STAR_PAGE = PAGES / "star-charte-cookies.html"
REGISTRY = ROOT / "config" / "registry.toml"
API_KEY = "sim-rw-key-7f3a9c2e5b"
READ_ONLY_KEY = "sim-ro-key-1d8e4f6a0c"


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def all(self) -> str:
        return self.out + self.err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``ods-charter ARGS`` in-process; return exit code, stdout, stderr."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Simulator]:
    with Simulator(
        api_key=API_KEY, read_only_key=READ_ONLY_KEY, state_dir=tmp_path / "portal"
    ) as simulator:
        yield simulator


def write_config(
    directory: Path,
    base_url: str,
    languages: tuple[str, ...] = ("fr",),
    extra: str = "",
    name: str = "test-portal",
    key_env: str | None = None,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(REGISTRY, directory / "registry.toml")
    config = directory / "portal.toml"
    langs = ", ".join(f'"{lang}"' for lang in languages)
    config.write_text(
        f'[portal]\nname = "{name}"\nbase_url = "{base_url}"\n'
        + (f'api_key_env = "{key_env}"\n' if key_env else "")
        + f'[page]\nslug = "charte-cookies"\nlanguages = [{langs}]\n'
        f"[http]\nconnect_timeout = 2\nread_timeout = 2\nretries = 2\n{extra}",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def project(tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with config/ pointing at the simulator and the key set."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ODS_API_KEY", API_KEY)
    monkeypatch.delenv("ODS_BASE_URL", raising=False)
    return write_config(tmp_path / "config", sim.base_url, ("fr", "en"))


def edit_charter(sim: Simulator, language: str, old: str, new: str) -> None:
    """Change the live charter as an editor in the back office would."""
    page = sim.store.page("charte-cookies")
    assert page is not None and old in page["content"]["html"][language]
    page["content"]["html"][language] = page["content"]["html"][language].replace(old, new)
    sim.store.put_raw_page(page)
