"""The CLI as a user meets it: help, formats, output, colour, verbosity, config
discovery, init, failure reports, dry-run exit codes, rollback by name."""

from __future__ import annotations

import io
import json
import re
import sys
import xml.etree.ElementTree as ET
from enum import Enum
from pathlib import Path
from typing import get_args, get_type_hints

import pytest
import typer

from ods_charter.cli import app
from ods_charter.simulator import Simulator

from .conftest import API_KEY, ROOT, STAR_PAGE, edit_charter, write_config

CONFIG = ROOT / "config" / "portal.toml"
REGISTRY = ROOT / "config" / "registry.toml"
ANSI = "\033["


def _commands() -> dict[str, typer.main.TyperCommand]:  # type: ignore[name-defined]
    group = typer.main.get_command(app)
    return dict(group.commands)  # type: ignore[attr-defined]


def _drift(sim: Simulator) -> None:
    edit_charter(sim, "fr", "Se souvenir de la langue du visiteur", "Langue")


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_option_has_help_and_every_format_is_a_choice(cli, name: str) -> None:  # type: ignore[no-untyped-def]
    command = _commands()[name]
    assert command.help, f"{name} has no help"
    for param in command.params:
        if param.param_type_name == "option":
            assert getattr(param, "help", None), f"{name} {param.opts} has no help text"
    help_text = cli(name, "--help").out
    assert "-h, --help" in help_text
    formats = [p for p in command.params if "--format" in p.opts]
    for param in formats:
        hints = get_type_hints(command.callback, include_extras=True)
        declared = get_args(hints[param.name])[0]  # Annotated[ThatEnum, typer.Option(...)]
        assert issubclass(declared, Enum), f"{name} --format is not a declared choice"
        choices = [c.value for c in declared]
        # --help lists the values, and an unknown one is a usage error (exit 2).
        listed = re.search(r"--format [\[<]([^\]>]+)[\]>]", help_text)
        assert listed and set(listed.group(1).split("|")) == {str(c) for c in choices}
        bad = cli(name, "--format", "yaml")
        assert bad.code == 2 and "'yaml' is not one of" in bad.err


def test_version_and_short_help(cli) -> None:  # type: ignore[no-untyped-def]
    from ods_charter import __version__

    assert cli("--version").out.strip() == f"ods-charter {__version__}"
    assert "Commands" in cli("-h").out
    assert "--install-completion" in cli("--help").out


def test_lint_and_scan_refuse_an_unknown_format(cli) -> None:  # type: ignore[no-untyped-def]
    for command in ("lint", "scan", "check", "parse", "publish", "sync", "rollback", "validate"):
        result = cli(command, "--config", CONFIG, "--format", "bogus")
        assert result.code == 2 and "'bogus' is not one of" in result.err, command


def test_output_file_and_stdout_dash(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "lint.json"
    assert cli("lint", "--config", CONFIG, "--format", "json", "-o", out).code == 0
    assert json.loads(out.read_text())["status"] == "ok"
    dash = cli("check", "--config", CONFIG, "--file", STAR_PAGE, "--format", "json", "-o", "-")
    assert dash.code == 0 and json.loads(dash.out)["status"] == "ok"
    parsed = tmp_path / "records.csv"
    assert cli("parse", "--file", STAR_PAGE, "--format", "csv", "-o", parsed).code == 0
    assert parsed.read_text().splitlines()[0].startswith("name,")


def test_file_dash_reads_stdin(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    page = STAR_PAGE.read_bytes().replace(b"du visiteur", b"choisie", 1)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(page)))
    result = cli("check", "--config", CONFIG, "--file", "-", "--format", "json")
    assert result.code == 1
    assert json.loads(result.out)["languages"]["fr"]["changed"][0]["name"] == "django_language"


def test_colour_only_when_asked_or_on_a_terminal(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "page.html"
    page.write_text(STAR_PAGE.read_text().replace("du visiteur", "choisie", 1))
    piped = cli("check", "--config", CONFIG, "--file", page)
    assert piped.code == 1 and ANSI not in piped.out  # captured output is not a terminal
    coloured = cli("--color", "always", "check", "--config", CONFIG, "--file", page)
    assert coloured.code == 1 and f"{ANSI}31m[-du visiteur-]" in coloured.out
    # The legend comes before the first change, and says which way the diff reads.
    lines = [re.sub(r"\033\[[0-9;]*m", "", line) for line in coloured.out.splitlines()]
    legend = next(i for i, line in enumerate(lines) if "registry → page" in line)
    change = next(i for i, line in enumerate(lines) if "changed django_language" in line)
    assert legend < change
    never = cli("--color", "never", "check", "--config", CONFIG, "--file", page)
    assert ANSI not in never.out


def test_quiet_prints_nothing_but_keeps_the_exit_code(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "page.html"
    page.write_text(STAR_PAGE.read_text().replace("du visiteur", "choisie", 1))
    quiet = cli("--quiet", "check", "--config", CONFIG, "--file", page)
    assert quiet.code == 1 and quiet.out == "" and quiet.err == ""
    missing = cli("-q", "check", "--config", CONFIG, "--file", tmp_path / "nope.html")
    assert missing.code == 2 and "nope.html" in missing.err


def test_verbose_shows_each_request_and_retry_never_the_key(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    sim.faults.arm({"fail_count": 1, "fail_status": 503, "retry_after": "0"})
    result = cli("--verbose", "publish", "--config", project, "--dry-run")
    assert result.code == 0, result.all  # in sync: nothing to do
    assert re.search(r"GET http://127\.0\.0\.1:\d+/\S+ -> 503 in \d+ ms", result.err)
    assert "retrying in 0.0 s: HTTP 503" in result.err
    assert re.search(r"-> 200 in \d+ ms \(attempt 2 of 3\)", result.err)
    assert API_KEY not in result.all


def test_a_portal_that_cannot_be_read_still_yields_a_report(
    cli, project: Path, sim: Simulator, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    sim.stop()
    junit = tmp_path / "junit.xml"
    result = cli("check", "--config", project, "--format", "junit", "-o", junit)
    assert result.code == 2 and "cannot connect" in result.err
    root = ET.parse(junit).getroot()
    errors = root.findall(".//testcase/error")
    assert len(errors) == 2 and "cannot connect" in (errors[0].get("message") or "")
    doc = tmp_path / "report.json"
    assert cli("check", "--config", project, "--format", "json", "-o", doc).code == 2
    report = json.loads(doc.read_text())
    assert report["status"] == "error"
    assert "cannot connect" in report["languages"]["fr"]["error"]
    scanned = tmp_path / "scan.md"
    assert cli("scan", "--config", project, "--format", "markdown", "-o", scanned).code == 2
    assert scanned.read_text().startswith("### ❌ Cookie scan: error")


def test_junit_holds_no_character_xml_forbids(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "page.html"
    page.write_text(STAR_PAGE.read_text().replace("du visiteur", "du\x0bvisiteur\x1b", 1))
    out = tmp_path / "junit.xml"
    result = cli("check", "--config", CONFIG, "--file", page, "--format", "junit", "-o", out)
    assert result.code == 1
    failures = ET.parse(out).getroot().findall(".//failure")
    assert [f.get("message", "").split(":")[0] for f in failures] == [
        "changed django_language purpose"
    ]


def test_dry_runs_agree_on_exit_codes(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    for command in ("publish", "sync"):
        assert cli(command, "--config", project, "--dry-run").code == 0, command
    _drift(sim)
    for command in ("publish", "sync"):
        assert cli(command, "--config", project, "--dry-run").code == 1, command
    sim.stop()
    for command in ("publish", "sync"):
        assert cli(command, "--config", project, "--dry-run").code == 2, command


def test_publish_sync_validate_speak_json(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    plan = cli("publish", "--config", project, "--dry-run", "--format", "json")
    assert plan.code == 1
    doc = json.loads(plan.out)
    assert doc["status"] == "pending" and doc["changes"]["fr"]["changed"] == ["django_language"]
    assert "+" in doc["diff"] and doc["backup"] is None
    synced = cli("sync", "--config", project, "--yes", "--format", "json")
    assert synced.code == 0, synced.all
    outcome = json.loads(synced.out)
    assert outcome["status"] == "ok" and outcome["before"]["status"] == "drift"
    assert outcome["plan"]["status"] == "written" and outcome["plan"]["backup"]
    valid = cli("validate", "--config", project, "--format", "json")
    assert valid.code == 0 and json.loads(valid.out)["cookies"] == 4


def test_rollback_list_and_latest(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    empty = cli("rollback", "--list", "--config", project)
    assert empty.code == 0 and "no backups" in empty.out
    before = sim.store.page("charte-cookies")["content"]["html"]["fr"]  # type: ignore[index]
    _drift(sim)
    drifted = sim.store.page("charte-cookies")["content"]["html"]["fr"]  # type: ignore[index]
    assert cli("publish", "--config", project, "--yes").code == 0
    listed = cli("rollback", "--list", "--format", "json")
    backups = json.loads(listed.out)["backups"]
    assert len(backups) == 1 and backups[0]["portal"] == sim.base_url
    back = cli("rollback", "latest", "--config", project, "--yes")
    assert back.code == 0, back.all
    assert sim.store.page("charte-cookies")["content"]["html"]["fr"] == drifted  # type: ignore[index]
    assert drifted != before
    assert cli("rollback", "--config", project).code == 2  # no backup named


def test_config_is_found_from_a_subfolder_or_the_environment(
    cli, project: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    deep = project.parent.parent / "docs" / "deeper"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert cli("check").code == 0
    elsewhere = project.parent.parent.parent / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    lost = cli("check")
    assert lost.code == 2 and "ods-charter init" in lost.err
    monkeypatch.setenv("ODS_CHARTER_CONFIG", str(project))
    assert cli("check").code == 0


def test_url_and_file_work_without_any_config(
    cli, sim: Simulator, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    page = f"{sim.base_url}/pages/charte-cookies/"
    parsed = cli("parse", "--url", page)
    assert parsed.code == 0 and len(json.loads(parsed.out)["cookies"]) == 4
    assert cli("fetch", "--url", page, "-o", "page.html").code == 0
    assert b"csrftoken" in (tmp_path / "page.html").read_bytes()
    assert cli("check", "--url", page, "--registry", REGISTRY).code == 0
    assert cli("check", "--file", "page.html", "--registry", REGISTRY).code == 0
    assert cli("import", "--url", page, "-o", "registry.toml").code == 0
    assert cli("check", "--file", "page.html").code == 0  # registry.toml beside


def test_init_finds_the_charter_and_writes_a_project(
    cli, sim: Simulator, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ODS_API_KEY", raising=False)
    result = cli("init", sim.base_url, "--lang", "fr", "--lang", "en")
    assert result.code == 0, result.all
    config = (tmp_path / "config" / "portal.toml").read_text()
    assert 'slug = "charte-cookies"' in config and 'languages = ["fr", "en"]' in config
    assert "# api_key_env" in config and "# proxy" in config  # every key shown
    assert cli("validate").code == 2  # English texts are not in the registry yet
    again = cli("init", sim.base_url)
    assert again.code == 2 and "--force" in again.err
    monkeypatch.setenv("ODS_API_KEY", API_KEY)  # through the page list this time
    assert cli("init", sim.base_url, "--force").code == 0
    assert cli("check").code == 0


def test_init_says_where_it_looked_when_nothing_is_found(
    cli, sim: Simulator, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ODS_API_KEY", raising=False)
    sim.store.data["pages"].clear()
    sim.store.data["legal"].clear()
    result = cli("init", sim.base_url)
    assert result.code == 2 and "/pages/cookies/" in result.err
    assert not (tmp_path / "config").exists()


def test_fleet_scan_has_its_own_columns_and_one_json_shape(
    cli, tmp_path: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    configs = [write_config(tmp_path / f"p{i}", sim.base_url, name=f"p{i}") for i in range(2)]
    args = [a for c in configs for a in ("--config", str(c))]
    sim.set_cookies(["_hjid=1; Max-Age=31536000; Path=/"])
    table = cli("scan", *args)
    assert table.code == 1
    header, _, first, *_ = (line.split() for line in table.out.splitlines())
    # Every kind an HTTP scan can find, the most severe first: Hotjar's _hjid comes
    # with the first answer, before any consent, and the registry does not know it.
    assert header == [
        "portal", "status", "before_consent", "undeclared", "lifetime", "insecure", "not_seen",
        "error",
    ]  # fmt: skip
    assert first[:4] == ["p0", "findings", "1", "1"]
    scanned = json.loads(cli("scan", *args, "--format", "json").out)
    assert scanned["portals"][0]["before_consent"] == 1
    fleet = json.loads(cli("check", *args, "--format", "json").out)
    one = json.loads(cli("check", "--config", configs[0], "--format", "json").out)
    assert fleet["status"] == "ok" and isinstance(fleet["status"], str)
    assert set(one) <= set(fleet["portals"][0])  # each portal: the one-portal document


def test_unknown_language_is_a_usage_error(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("scan", "--config", CONFIG, "--lang", "de")
    assert result.code == 2 and "--lang de" in result.err


def test_a_writes_diff_reads_now_to_after_in_colour(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    result = cli("--color", "always", "publish", "--config", project, "--dry-run")
    assert result.code == 1
    plain = re.sub(r"\033\[[0-9;]*m", "", result.out)
    legend = plain.index("- now on the page, + after publish")
    assert legend < plain.index("--- charte-cookies [fr] now")
    assert f"{ANSI}31m-                <td>Langue</td>" in result.out  # now: red
    assert f"{ANSI}32m+                <td>Se souvenir de la langue du visiteur" in result.out


def test_init_with_the_charters_address(cli, sim: Simulator, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = cli("init", sim.base_url, "--url", "/terms/cookies-policy/", "--dir", "conf")
    assert result.code == 0, result.all
    config = (tmp_path / "conf" / "portal.toml").read_text()
    assert 'url = "/terms/cookies-policy/"' in config
    assert cli("check", "--config", tmp_path / "conf" / "portal.toml").code == 0


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_follows_the_terminal_and_no_color(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ods_charter.cli import Color, _wants_color

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert _wants_color(Color.auto, _Terminal()) is True
    assert _wants_color(Color.auto, io.StringIO()) is False  # piped
    assert _wants_color(Color.never, _Terminal()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert _wants_color(Color.auto, _Terminal()) is False
    assert _wants_color(Color.always, io.StringIO()) is True


def test_a_person_at_a_terminal_sees_the_wait_before_a_retry(
    cli, project: Path, sim: Simulator, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    sim.faults.arm({"fail_count": 1, "fail_status": 503, "retry_after": "0"})
    piped = cli("check", "--config", project)
    assert piped.code == 0 and "retrying" not in piped.err
    sim.faults.arm({"fail_count": 1, "fail_status": 503, "retry_after": "0"})
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    seen = cli("check", "--config", project)
    assert seen.code == 0 and "retrying in 0.0 s: HTTP 503 from http://127.0.0.1:" in seen.err
    assert " -> 200 in " not in seen.err  # only --verbose lists every request


def test_the_cli_names_the_same_config_as_the_library() -> None:
    from ods_charter import cli, config

    assert (cli.CONFIG_ENV, cli.CONFIG_NAME) == (config.CONFIG_ENV, config.CONFIG_NAME)


def test_the_cli_starts_without_the_heavy_libraries() -> None:
    # `ods-charter --help` and `check --file` must not pay for requests, lxml or tomlkit.
    import subprocess

    code = (
        "import sys, ods_charter.cli; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'requests', 'lxml', 'tomlkit'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
