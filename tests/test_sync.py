"""``sync`` decides from the API copy (what a write changes) and reports the public
page (what visitors see) separately; where the two disagree it neither writes on
a stale belief nor reports drift forever."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from ods_charter.simulator import Simulator

from .conftest import API_KEY, write_config

SLUG = "charte-cookies"
API = "/api/automation/v1.0/code_editor_pages/"
AUTH = {"Authorization": f"apikey {API_KEY}"}
RIGHT = "Se souvenir de la langue du visiteur"  # the registry's French purpose


def _puts(sim: Simulator) -> int:
    return sum(1 for r in sim.requests if r["method"] == "PUT")


def _save_through_api(sim: Simulator, old: str, new: str, publish: bool = False) -> None:
    """What an editor's page kit does: PUT the whole page, then maybe publish it."""
    page = requests.get(sim.base_url + API + SLUG + "/", headers=AUTH, timeout=5).json()
    body = {k: page[k] for k in ("title", "description", "template", "tags", "content")}
    body["content"]["html"]["fr"] = body["content"]["html"]["fr"].replace(old, new)
    put = requests.put(sim.base_url + API + SLUG + "/", json=body, headers=AUTH, timeout=5)
    assert put.status_code == 200
    if publish:
        done = requests.post(sim.base_url + API + SLUG + "/publish/", headers=AUTH, timeout=5)
        assert done.status_code == 200 and done.json() == {"detail": "ok"}


def _settings(config: Path, *lines: str) -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[page]\n", "[page]\n" + "".join(f"{x}\n" for x in lines)))


def test_a_drifted_draft_is_fixed_though_the_public_page_looks_right(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    sim.platform.publish_step = True
    _settings(project, 'publish = "post"', "live_wait = 1")
    _save_through_api(sim, RIGHT, "Langue")  # a draft: visitors still see the right text
    assert cli("check", "--config", project).code == 0
    assert cli("check", "--config", project, "--source", "api").code == 1

    result = cli("sync", "--config", project, "--yes")
    assert result.code == 0, result.all
    assert "[fr] change django_language purpose" in result.out
    assert _puts(sim) == 2  # the editor's draft, then ours
    assert cli("check", "--config", project, "--source", "api").code == 0
    assert cli("check", "--config", project).code == 0


def test_a_public_page_lagging_behind_is_reported_not_rewritten_forever(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    sim.platform.publish_step = True
    _settings(project, "live_wait = 0")
    _save_through_api(sim, RIGHT, "Langue", publish=True)  # live and wrong
    _save_through_api(sim, "Langue", RIGHT)  # fixed, but only in the draft
    assert cli("check", "--config", project).code == 1  # what visitors see drifted
    for _ in range(2):
        result = cli("sync", "--config", project, "--yes")
        assert result.code == 1
        assert "the API copy already matches the registry: nothing to do" in result.out
        assert "a draft that is not live" in result.out
    assert _puts(sim) == 2  # only the editor's two saves: sync wrote nothing


def test_dry_run_plans_from_the_api_copy_and_writes_nothing(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _save_through_api(sim, RIGHT, "Langue")
    result = cli("sync", "--config", project, "--dry-run")
    assert result.code == 1
    lines = result.out.splitlines()
    assert any(line.startswith("-") and ">Langue<" in line for line in lines)
    assert any(line.startswith("+") and RIGHT in line for line in lines)
    assert _puts(sim) == 1


def test_check_source_api_needs_a_key_and_a_known_source(
    cli, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("ODS_API_KEY")
    assert cli("check", "--config", project).code == 0  # the CI drift check needs no secret
    keyless = cli("check", "--config", project, "--source", "api")
    assert keyless.code == 2 and "set ODS_API_KEY" in keyless.err
    bad = cli("check", "--config", project, "--source", "cache")
    assert bad.code == 2 and "is not one of 'public', 'api'" in bad.all
    both = cli("check", "--config", project, "--source", "api", "--url", "/pages/x/")
    assert both.code == 2 and "drop --file/--url" in both.all


def test_fleet_sync_shows_a_public_page_that_differs(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    with (
        Simulator(api_key=API_KEY, state_dir=tmp_path / "s1") as plain,
        Simulator(api_key=API_KEY, state_dir=tmp_path / "s2") as scripted,
    ):
        scripted.platform.js_rendered = True
        args = []
        for name, sim in (("plain", plain), ("scripted", scripted)):
            monkeypatch.setenv(f"KEY_{name.upper()}", API_KEY)
            config = write_config(
                tmp_path / name, sim.base_url, name=name, key_env=f"KEY_{name.upper()}"
            )
            args += ["--config", str(config)]
        assert cli("check", *args, "--source", "api").code == 0  # each with its own key
        result = cli("sync", *args, "--yes")
        assert result.code == 1, result.all
        rows = {line.split()[0]: line for line in result.out.splitlines()[2:]}
        assert rows["plain"].split()[1] == "ok"
        assert rows["scripted"].split()[1] == "drift"
        assert "public page:" in rows["scripted"] and "rendered by JavaScript" in rows["scripted"]
