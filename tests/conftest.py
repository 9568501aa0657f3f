"""Shared fixtures: the portal simulator on loopback, a project pointing at it,
and a way to run the real CLI in-process and read what a user would see."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ods_charter.cli import main
from ods_charter.simulator import Simulator
from ods_charter.simulator.server import exchange_observers

from .contract import problems

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAGES = FIXTURES / "pages"
STAR_PAGE = PAGES / "star-charte-cookies.html"
REGISTRY = ROOT / "config" / "registry.toml"
API_KEY = "sim-rw-key-7f3a9c2e5b"
READ_ONLY_KEY = "sim-ro-key-1d8e4f6a0c"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "off_contract(what='requests'): the test breaks the API contract on purpose, "
        "in its requests (the answers are still held to it) or in the answers it has "
        "the simulator give ('answers')",
    )


@pytest.fixture(autouse=True)
def api_contract(request: pytest.FixtureRequest) -> Iterator[list[dict[str, object]]]:
    """Hold every API exchange of the test to the OpenAPI contract, at teardown."""
    seen: list[dict[str, object]] = []
    lock = threading.Lock()

    def observe(exchange: dict[str, object]) -> None:
        with lock:
            seen.append(exchange)

    exchange_observers.append(observe)
    yield seen
    exchange_observers.remove(observe)
    marker = request.node.get_closest_marker("off_contract")
    off = (marker.args or ("requests",))[0] if marker else ""
    if off == "answers":
        return
    found = [p for exchange in seen for p in problems(exchange, check_request=not off)]
    if found:
        pytest.fail(
            f"{len(found)} API exchange problem(s) against the contract:\n" + "\n".join(found[:10])
        )


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


def charter_page(sim: Simulator) -> dict[str, Any]:
    """The charter page as the portal holds it now."""
    page = sim.store.page("charte-cookies")
    assert page is not None
    return page


def put_count(sim: Simulator) -> int:
    """How many PUTs the portal received: what was written, or tried."""
    return sum(1 for r in sim.requests if r["method"] == "PUT")


def publish_at_a_terminal(project: Path, answer: bytes) -> tuple[int, bytes]:
    """Run the installed ``ods-charter publish`` in a pty, as a person at a
    terminal would; type ``answer`` at the [y/N] question. Exit code, screen."""
    import os
    import pty
    import sys
    import time

    exe = Path(sys.executable).parent / "ods-charter"
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child runs the real command
        argv = [str(exe), "publish", "--config", str(project)]
        os.execve(str(exe), argv, {**os.environ, "ODS_API_KEY": API_KEY})
    output = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and b"[y/N]" not in output:
        try:
            output += os.read(fd, 4096)
        except OSError:
            break
    os.write(fd, answer)
    while True:  # the rest of what the command says, up to its end
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output
