#!/usr/bin/env python3
"""Set-up and entry point for a fresh checkout: needs only Python 3.11+.

python3 dev.py demo    # install the package into .venv, then run the full demo
python3 dev.py test    # install the package and the pinned test tools, run every gate
python3 dev.py lowest  # the tests again on the lowest dependency versions pyproject allows
python3 dev.py bench   # regular install into .venv-bench, then run benchmarks/
python3 dev.py mutate [publish ...] [--max-children N]
                       # mutation testing of the write path (mutmut 3; slow, not in CI)
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOWEST = ROOT / ".venv-lowest"
CONSTRAINTS = ROOT / "dev-constraints.txt"


def _bin(env: Path) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin")


BIN = _bin(VENV)
PY = BIN / "python"


def _ensure_venv(extras: str, venv_dir: Path = VENV, editable: bool = True) -> Path:
    """A venv with ods-charter[extras] installed, the tools pinned; returns its python."""
    python = venv_dir / BIN.name / "python"
    if not python.exists():
        print(f"creating {venv_dir.name} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(venv_dir)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    # Reinstall only when pyproject.toml, the pins or the extras changed.
    inputs = (ROOT / "pyproject.toml").read_bytes() + CONSTRAINTS.read_bytes() + extras.encode()
    digest = hashlib.sha256(inputs).hexdigest()
    stamp = venv_dir / ".ods-charter-installed"
    spec = f".[{extras}]" if extras else "."
    if not (stamp.exists() and stamp.read_text() == digest):
        print(f"installing ods-charter{spec[1:]} into {venv_dir.name} ...", flush=True)
        target = ["-e", spec] if editable else [spec]
        subprocess.run([*pip, "-c", str(CONSTRAINTS), *target], cwd=ROOT, check=True)
        stamp.write_text(digest)
    elif not editable:  # a regular install is a copy: refresh it with today's code
        subprocess.run([*pip, "--no-deps", "--force-reinstall", "."], cwd=ROOT, check=True)
    return python


def _run(*args: str) -> None:
    print("$", " ".join(args), flush=True)
    code = subprocess.run(args, cwd=ROOT).returncode
    if code:
        sys.exit(code)


def _lowest() -> None:
    """A fresh .venv-lowest: the package built with the lowest setuptools allowed,
    installed with the lowest allowed version of each dependency (uv's
    ``--resolution lowest-direct``), the test tools at their pinned versions."""
    _ensure_venv("test")
    if not (BIN / "uv").exists():
        _run(str(PY), "-m", "pip", "install", "-q", "-c", str(CONSTRAINTS), "uv")
    uv = str(BIN / "uv")
    shutil.rmtree(LOWEST, ignore_errors=True)
    _run(uv, "venv", "-q", "--python", sys.executable, str(LOWEST))
    env = {**os.environ, "VIRTUAL_ENV": str(LOWEST)}
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    lowest_build = [re.sub(r">=", "==", re.sub(r"\s*#.*", "", r)) for r in build]

    def uv_pip(*args: str) -> None:
        print("$ uv pip", " ".join(args), flush=True)
        subprocess.run([uv, "pip", *args], cwd=ROOT, env=env, check=True)

    uv_pip("install", "-q", *lowest_build, "wheel")
    uv_pip(
        "install",
        "-q",
        "--resolution",
        "lowest-direct",
        "--no-build-isolation-package",
        "ods-charter",
        "-c",
        str(CONSTRAINTS),
        ".[test]",
    )
    subprocess.run([uv, "pip", "list"], cwd=ROOT, env=env, check=False)
    _run(str(_bin(LOWEST) / "python"), "-m", "pytest", "-p", "no:cacheprovider", *sys.argv[2:])


def _mutate(args: list[str]) -> None:
    """Mutants of the named modules (default: the write path in pyproject's
    [tool.mutmut]), each run against the tests that reach it; then the results."""
    _ensure_venv("test")
    if not (BIN / "mutmut").exists():
        print("installing mutmut into .venv ...", flush=True)
        pip = [str(PY), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "mutmut>=3,<4"], cwd=ROOT, check=True)
    options = [a for a in args if a.startswith("--")]
    if "--max-children" in args:  # its value is not a module name
        at = args.index("--max-children")
        options, args = [*options, args[at + 1]], args[:at] + args[at + 2 :]
    names = [f"ods_charter.{m}.*" for m in args if not m.startswith("--")]
    subprocess.run([str(BIN / "mutmut"), "run", *options, *names], cwd=ROOT)
    _run(str(BIN / "mutmut"), "results")


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command == "demo":
        _ensure_venv("")  # the demo needs the package only, not the test tools
        _run(str(BIN / "ods-charter"), "demo", *sys.argv[2:])
    elif command == "test":
        _ensure_venv("test")
        _run(str(BIN / "ruff"), "check", ".")
        _run(str(BIN / "ruff"), "format", "--check", ".")
        _run(str(BIN / "mypy"))
        _run(
            str(PY),
            "-m",
            "pytest",
            "--cov",
            "--cov-report=term",
            "--cov-fail-under=90",
            *sys.argv[2:],
        )
    elif command == "lowest":
        _lowest()
    elif command == "mutate":
        _mutate(sys.argv[2:])
    elif command == "bench":
        # A regular (not editable) install, as users have it: an editable one
        # adds an import hook that start-up figures would wrongly include.
        python = _ensure_venv("bench", ROOT / ".venv-bench", editable=False)
        # -P: the installed package is imported, not the source tree beside it;
        # benchmarks/ itself comes from the end of the path.
        code = "import runpy, sys; sys.path.append(sys.argv.pop(1)); "
        code += "runpy.run_module('benchmarks', run_name='__main__', alter_sys=True)"
        _run(str(python), "-P", "-c", code, str(ROOT), *sys.argv[2:])
    else:
        print(__doc__)
        sys.exit(0 if command in {"help", "-h", "--help"} else 2)


if __name__ == "__main__":
    main()
