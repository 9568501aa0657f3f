#!/usr/bin/env python3
"""Set-up and entry point for a fresh checkout: needs only Python 3.11+.

python3 dev.py demo    # install into .venv, then run the full demo
python3 dev.py test    # install into .venv, then run every gate and the tests
python3 dev.py bench   # regular install into .venv-bench, then run benchmarks/
python3 dev.py mutate [publish ...] [--max-children N]
                       # mutation testing of the write path (mutmut 3; slow, not in CI)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def _ensure_venv(extras: str, venv_dir: Path = VENV, editable: bool = True) -> Path:
    """A venv with ods-charter[extras] installed; returns its python."""
    python = venv_dir / BIN.name / "python"
    if not python.exists():
        print(f"creating {venv_dir.name} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(venv_dir)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    # Reinstall only when pyproject.toml or the extras changed: keeps reruns fast.
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = venv_dir / ".ods-charter-installed"
    if not (stamp.exists() and stamp.read_text() == digest):
        print(f"installing ods-charter[{extras}] into {venv_dir.name} ...", flush=True)
        target = ["-e", f".[{extras}]"] if editable else [f".[{extras}]"]
        subprocess.run([*pip, *target], cwd=ROOT, check=True)
        stamp.write_text(digest)
    elif not editable:  # a regular install is a copy: refresh it with today's code
        subprocess.run([*pip, "--no-deps", "--force-reinstall", "."], cwd=ROOT, check=True)
    return python


def _run(*args: str) -> None:
    print("$", " ".join(args), flush=True)
    code = subprocess.run(args, cwd=ROOT).returncode
    if code:
        sys.exit(code)


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
        _ensure_venv("test")
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
