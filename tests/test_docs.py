"""Tests that check the docs: every command and option the README shows exists,
and every key ``portal.toml`` accepts is documented."""

from __future__ import annotations

import re
import shlex
import tomllib

import pytest
import typer

from ods_charter.cli import app
from ods_charter.config import _SCHEMA
from ods_charter.init import portal_toml

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
GROUP = typer.main.get_command(app)
GLOBAL = {opt for p in GROUP.params for opt in (*p.opts, *p.secondary_opts)}


def _options(command: str) -> set[str]:
    cmd = GROUP.commands[command]  # type: ignore[attr-defined]
    return {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts)} | {"-h", "--help"}


def _shell_lines() -> list[str]:
    """``ods-charter ...`` in the README's sh blocks, one per command line."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.splitlines():
            line = line.split(" #")[0].strip()
            for part in line.split("|"):
                words = part.split()
                while words and re.match(r"^[A-Z_]+=", words[0]):
                    words.pop(0)  # VAR=value before the command
                if words and words[0] == "ods-charter":
                    lines.append(" ".join(words))
    return lines


def _table_rows() -> list[str]:
    """The first cell of each row of the commands table."""
    table = README.split("## Commands", 1)[1].split("\n\n", 2)[1]
    rows = []
    for line in table.splitlines()[2:]:
        cell = line.split("` |", 1)[0]
        rows += [c for c in re.findall(r"`([a-z][^`]*)", cell)]
    return rows


@pytest.mark.parametrize("line", _shell_lines())
def test_each_readme_command_line_exists(line: str) -> None:
    words = shlex.split(line)[1:]
    while words and words[0].startswith("-"):
        assert words.pop(0) in GLOBAL | {"--install-completion"}, line
    if not words:
        return
    assert words[0] in GROUP.commands, line  # type: ignore[attr-defined]
    known = _options(words[0])
    for word in words[1:]:
        if word.startswith("-") and word != "-":
            assert word.split("=")[0] in known, f"{line}: {word} is not an option"


@pytest.mark.parametrize("row", _table_rows())
def test_each_command_in_the_table_exists_with_its_options(row: str) -> None:
    command = row.split()[0]
    assert command in GROUP.commands, row  # type: ignore[attr-defined]
    for option in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", row):
        assert option in _options(command), f"{row}: {option}"


def test_every_command_is_in_the_table() -> None:
    documented = {row.split()[0] for row in _table_rows()}
    assert set(GROUP.commands) == documented  # type: ignore[attr-defined]


def test_every_portal_toml_key_is_documented() -> None:
    table = README.split("## `portal.toml`", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `\[(\w+)\] (\w+)`", table, re.M))
    accepted = {(section, key) for section, keys in _SCHEMA.items() for key in keys}
    assert accepted <= documented, accepted - documented
    # init writes every documented key, commented or not
    written = portal_toml("https://x.org", "c", "https://x.org/pages/c/", ["fr"])
    shown = set()
    section = ""
    for line in written.splitlines():
        line = line.lstrip("# ")
        if match := re.match(r"^\[(\w+)\]", line):
            section = match.group(1)
        elif match := re.match(r"^(\w+) =", line):
            shown.add((section, match.group(1)))
    assert shown == documented
    tomllib.loads(written)  # and it is valid TOML


def test_readme_examples_of_portal_toml_are_valid(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ods_charter.config import load_config

    section = README.split("## `portal.toml`", 1)[1].split("\n## ", 1)[0]
    examples = re.findall(r"```toml\n(.*?)```", section, re.S)
    assert len(examples) == 2  # one portal, and one of a fleet
    for i, text in enumerate(examples):
        if "api_key_env" not in _SCHEMA["portal"]:  # until per-portal keys land
            text = re.sub(r"api_key_env = .*\n", "", text)
        path = tmp_path / f"p{i}.toml"
        path.write_text(text, encoding="utf-8")
        assert load_config(path).base_url.startswith("https://")
