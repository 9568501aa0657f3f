"""Real portals, as the simulator plays them: one key per portal, the API copy
against the public page, the publish step, pages that must not be edited, and
errors that say what to do. Every test runs the real CLI over loopback HTTP."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from ods_charter.simulator import Simulator

from .conftest import API_KEY, READ_ONLY_KEY, edit_charter, publish_at_a_terminal, write_config

SLUG = "charte-cookies"
API = "/api/automation/v1.0/code_editor_pages/"


def _fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _puts(sim: Simulator) -> int:
    return sum(1 for r in sim.requests if r["method"] == "PUT")


def _drift(sim: Simulator) -> None:
    edit_charter(sim, "fr", "Se souvenir de la langue du visiteur", "Langue")


def _set_on_charter(sim: Simulator, flag: str) -> None:
    """Turn a page flag on, as the platform would (a restriction, a parent's push...)."""
    page = sim.store.page(SLUG)
    assert page is not None
    page[flag] = True
    sim.store.put_raw_page(page)


def _page_setting(config: Path, *lines: str) -> None:
    """Add settings to the [page] table of a config written by write_config."""
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[page]\n", "[page]\n" + "".join(f"{x}\n" for x in lines)))


def _api_html(sim: Simulator, lang: str = "fr") -> str:
    page = sim.store.page(SLUG)
    assert page is not None
    return str(page["content"]["html"][lang])


# -- one key per portal ----------------------------------------------------


def test_fleet_sync_sends_each_portal_only_its_own_key(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    keys = {"a": "key-for-portal-a-51c9e0", "b": "key-for-portal-b-93d7f2"}
    sims = {
        name: Simulator(api_key=key, state_dir=tmp_path / f"sim-{name}").start()
        for name, key in keys.items()
    }
    try:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("ODS_API_KEY", "the-shared-key-nobody-should-send")
        configs = []
        for name, sim in sims.items():
            monkeypatch.setenv(f"ODS_API_KEY_{name.upper()}", keys[name])
            _drift(sim)
            configs += [
                "--config",
                str(
                    write_config(
                        tmp_path / "portals" / name,
                        sim.base_url,
                        name=name,
                        key_env=f"ODS_API_KEY_{name.upper()}",
                    )
                ),
            ]
        result = cli("sync", *configs, "--yes")
        assert result.code == 0, result.all
        for name, sim in sims.items():
            other = keys["b" if name == "a" else "a"]
            api = [r for r in sim.requests if r["path"].startswith(API)]
            assert api and {r["key_sha256"] for r in api} == {_fingerprint(keys[name])}
            seen = {r["key_sha256"] for r in sim.requests}
            assert _fingerprint(other) not in seen
            assert _fingerprint("the-shared-key-nobody-should-send") not in seen
            public = [r for r in sim.requests if not r["path"].startswith(API)]
            assert public and all(r["key_sha256"] is None for r in public)  # never to pages
            assert _puts(sim) == 1
    finally:
        for sim in sims.values():
            sim.stop()


def test_fleet_refuses_to_write_a_portal_without_its_own_key_variable(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ODS_API_KEY", API_KEY)
    monkeypatch.setenv("ODS_API_KEY_KEYED", API_KEY)
    with (
        Simulator(api_key=API_KEY, state_dir=tmp_path / "s1") as keyed,
        Simulator(api_key=API_KEY, state_dir=tmp_path / "s2") as bare,
    ):
        _drift(keyed)
        _drift(bare)
        one = write_config(
            tmp_path / "k", keyed.base_url, name="keyed", key_env="ODS_API_KEY_KEYED"
        )
        two = write_config(tmp_path / "b", bare.base_url, name="Rennes Métropole")
        result = cli("sync", "--config", one, "--config", two, "--yes")
        assert result.code == 2
        row = next(line for line in result.out.splitlines() if line.startswith("Rennes"))
        assert 'api_key_env = "ODS_API_KEY_RENNES_M_TROPOLE"' in row
        assert not any(r["key_sha256"] for r in bare.requests)  # the key never left
        assert _puts(bare) == 0 and _puts(keyed) == 1


def test_one_portal_reads_the_variable_its_config_names(
    cli, project: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    text = project.read_text().replace("[page]", 'api_key_env = "ODS_API_KEY_STAR"\n[page]', 1)
    project.write_text(text)
    monkeypatch.delenv("ODS_API_KEY")
    _drift(sim)
    missing = cli("sync", "--config", project, "--yes")
    assert missing.code == 2 and "set ODS_API_KEY_STAR" in missing.err
    monkeypatch.setenv("ODS_API_KEY_STAR", API_KEY)
    assert cli("sync", "--config", project, "--yes").code == 0 and _puts(sim) == 1
    monkeypatch.setenv("ODS_API_KEY_STAR", "a-key-of-another-portal")
    wrong = cli("check", "--config", project, "--source", "api")
    assert wrong.code == 2 and "check ODS_API_KEY_STAR" in wrong.err
    assert "a-key-of-another-portal" not in wrong.all


def test_a_key_variable_name_is_validated(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    project.write_text(project.read_text().replace("[page]", 'api_key_env = "my key"\n[page]', 1))
    result = cli("validate", "--config", project)
    assert result.code == 2 and "api_key_env = 'my key'" in result.err


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("flg = { en = 3 }", "[page] flg: expected a table of codes"),
        ('publish = "always"', "[page] publish = 'always': expected one of none, post"),
        ("live_wait = -1", "[page] live_wait = -1: expected 0 to 600 seconds"),
        ("live_wait = true", "[page] live_wait: expected a number"),
    ],
)
def test_page_settings_are_validated(cli, project: Path, line: str, message: str) -> None:  # type: ignore[no-untyped-def]
    _page_setting(project, line)
    result = cli("validate", "--config", project)
    assert result.code == 2 and message in result.err


# -- the API copy and the public page --------------------------------------


def test_content_rendered_by_javascript_is_named_as_such(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    sim.platform.js_rendered = True
    served = requests.get(sim.base_url + "/pages/charte-cookies/", timeout=5).text
    # The charter's table is in a script string; the two "<table" left are the
    # chrome's own (a console.log trap in a script, the footer's statistics).
    assert "\\u003ctable" in served and served.count("<table") == 2

    public = cli("check", "--config", project)
    assert public.code == 2 and "rendered by JavaScript" in public.err
    assert "--source api" in public.err and "--file" in public.err
    assert cli("check", "--config", project, "--source", "api").code == 0

    synced = cli("sync", "--config", project, "--yes")
    assert synced.code == 1 and "nothing to do" in synced.out
    assert "no cookie table though the API copy does" in synced.out
    assert _puts(sim) == 0


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs apt-get install chromium")
def test_a_page_saved_from_a_browser_is_what_the_javascript_hint_promises(
    cli, project: Path, sim: Simulator, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The browser runs the page's script and the table appears: the advice to
    check a copy saved from a browser (--file) works."""
    from ods_charter.browser import CHROMIUM_FLAGS

    sim.platform.js_rendered = True
    url = sim.base_url + "/pages/charte-cookies/?flg=fr"
    dom = subprocess.run(
        ["chromium", *CHROMIUM_FLAGS, "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert dom.count("<table") == 3 and "<td>csrftoken</td>" in dom.replace("\n", "")
    saved = tmp_path / "rendered.html"
    saved.write_text(dom, encoding="utf-8")
    assert cli("check", "--config", project, "--file", saved).code == 0


def test_regional_language_codes_are_mapped(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    sim.platform.flg_codes = {"en": "en-gb"}
    served = requests.get(sim.base_url + "/pages/charte-cookies/?flg=en", timeout=5).text
    assert '<html lang="fr"' in served  # ?flg=en is unknown here: the default language

    drift = cli("check", "--config", project)
    assert drift.code == 1  # English registry against the French page
    synced = cli("sync", "--config", project, "--yes")
    assert synced.code == 1 and _puts(sim) == 0
    assert "serves the 'fr' content, not 'en'" in synced.out
    assert '[page] flg = { en = "<code>" }' in synced.out

    _page_setting(project, 'flg = { en = "en-gb" }')
    sim.server.request_log.clear()
    assert cli("check", "--config", project).code == 0
    assert cli("sync", "--config", project, "--yes").code == 0
    asked = {r["query"] for r in sim.requests if r["path"] == "/pages/charte-cookies/"}
    assert asked == {"flg=fr", "flg=en-gb"}
    fetched = cli("fetch", "--config", project, "--lang", "en")
    assert '<html lang="en-gb"' in fetched.out and "Cookie charter" in fetched.out


def test_a_foreign_language_page_is_named_even_while_a_draft_lags(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    """?flg=en falls back to French whose public copy is stale: the served page's
    own language says what happened, not the content."""
    sim.platform.publish_step = True
    sim.platform.flg_codes = {"en": "en-gb"}
    _page_setting(project, "live_wait = 0")
    _drift(sim)
    result = cli("sync", "--config", project, "--yes")
    assert result.code == 1 and _puts(sim) == 1
    assert "[fr] the API holds the new content but the public page" in result.out
    assert "flg=en serves a page in 'fr', not 'en'" in result.out


def test_a_draft_goes_live_only_with_the_publish_step(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    sim.platform.publish_step = True
    _page_setting(project, "live_wait = 1")
    _drift(sim)
    result = cli("sync", "--config", project, "--yes")
    assert result.code == 1, result.all
    assert "verified: the portal holds the new content" in result.out  # the API copy
    assert "the API holds the new content but the public page" in result.out
    assert '[page] publish = "post"' in result.out
    assert "shows the API copy" not in result.out
    assert result.out.rstrip().endswith(
        "but the public page does not show the API copy: see the finding(s) above"
    )
    served = requests.get(sim.base_url + "/pages/charte-cookies/?flg=fr", timeout=5).text
    assert "<td>Langue</td>" in served or ">Langue<" in served  # visitors still see the old text

    _page_setting(project, 'publish = "post"')
    edit_charter(sim, "en", "Retrieve data through API calls", "Get data")
    again = cli("sync", "--config", project, "--yes")
    assert again.code == 0, again.all
    assert "published (POST .../publish/)" in again.out
    assert any(r["method"] == "POST" and r["path"] == f"{API}{SLUG}/publish/" for r in sim.requests)
    assert "shows the API copy (fr, en)" in again.out


def test_publish_step_on_a_portal_without_one_is_explained(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _page_setting(project, 'publish = "post"')
    _drift(sim)
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2 and "has no publish step" in result.err
    assert 'set [page] publish = "none"' in result.err
    assert "Se souvenir de la langue du visiteur" in _api_html(sim)  # the update itself landed


def test_verify_live_is_the_default_after_a_write_and_can_be_turned_off(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    sim.platform.publish_step = True
    _page_setting(project, "live_wait = 0")
    _drift(sim)
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 1 and "the API holds the new content but the public page" in result.out
    edit_charter(sim, "en", "Retrieve data through API calls", "Get data")
    sim.server.request_log.clear()
    quiet = cli("publish", "--config", project, "--yes", "--no-verify-live")
    assert quiet.code == 0 and "public page" not in quiet.out
    assert not [r for r in sim.requests if r["path"].startswith("/pages/")]


def test_a_cache_is_waited_for_within_the_bound(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    sim.platform.cache_delay = 1.5
    _page_setting(project, "live_wait = 8")
    _drift(sim)
    result = cli("sync", "--config", project, "--yes")
    assert result.code == 0, result.all
    assert re.search(
        r"\[fr\] the public page showed the API copy after \d+\.\d s \(a cache\)", result.out
    )
    reads = [r for r in sim.requests if r["query"] == "flg=fr" and r["path"].endswith(f"{SLUG}/")]
    assert 2 <= len(reads) <= 10  # polled, a bounded number of times


def test_a_missing_language_is_blank_not_another_language(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    page = sim.store.page(SLUG)
    assert page is not None
    del page["content"]["html"]["en"]
    sim.store.put_raw_page(page)
    fetched = cli("fetch", "--config", project, "--lang", "en")
    assert fetched.code == 0 and '<html lang="en"' in fetched.out
    assert "csrftoken" not in fetched.out and "Nom du prestataire" not in fetched.out
    result = cli("check", "--config", project)
    assert result.code == 2 and "(en): no cookie table found" in result.err


def test_a_restricted_public_page_is_a_finding_after_a_good_write(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _set_on_charter(sim, "is_restricted")
    _drift(sim)
    result = cli("sync", "--config", project, "--yes")
    assert result.code == 1 and _puts(sim) == 1
    assert "verified: the portal holds the new content" in result.out
    assert "[fr] the public page cannot be read:" in result.out
    assert "redirected to a login page" in result.out


# -- pages that must not be edited -----------------------------------------


def test_a_page_pushed_by_a_parent_is_refused_even_forced(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _set_on_charter(sim, "is_pushed_by_parent")
    _drift(sim)
    result = cli("sync", "--config", project, "--yes")
    assert result.code == 2 and "edit it on the parent domain" in result.err
    assert cli("sync", "--config", project, "--yes", "--force").code == 2
    assert _puts(sim) == 0
    # The platform itself refuses the edit on the subdomain.
    body = {"content": {"html": {"fr": "<p>x</p>"}}}
    direct = requests.put(
        sim.base_url + API + SLUG + "/",
        json=body,
        headers={"Authorization": f"apikey {API_KEY}"},
        timeout=5,
    )
    assert direct.status_code == 400 and "parent" in direct.json()["message"]


def test_a_page_with_subdomain_copies_needs_an_explicit_yes(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _set_on_charter(sim, "has_subdomain_copies")
    _drift(sim)
    plan = cli("publish", "--config", project, "--dry-run")
    assert plan.code == 1 and "copies on subdomains" in plan.out  # dry run: changes pending
    refused = cli("publish", "--config", project, "--yes")
    assert refused.code == 2 and "--include-subdomains" in refused.err and _puts(sim) == 0
    assert cli("sync", "--config", project, "--yes").code == 2 and _puts(sim) == 0
    done = cli("publish", "--config", project, "--yes", "--include-subdomains")
    assert done.code == 0, done.all
    assert _puts(sim) == 1


def test_a_fleet_sync_needs_include_subdomains_too(
    cli, tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEY_ONE", API_KEY)
    _set_on_charter(sim, "has_subdomain_copies")
    _drift(sim)
    with Simulator(api_key=API_KEY, state_dir=tmp_path / "other") as other:
        configs = [
            write_config(tmp_path / "one", sim.base_url, name="one", key_env="KEY_ONE"),
            write_config(tmp_path / "two", other.base_url, name="two", key_env="KEY_ONE"),
        ]
        args = [a for c in configs for a in ("--config", str(c))]
        refused = cli("sync", *args, "--yes")
        assert refused.code == 2 and _puts(sim) == 0
        assert "--include-subdomains" in next(
            x for x in refused.out.splitlines() if x.startswith("one")
        )
        assert cli("sync", *args, "--yes", "--include-subdomains").code == 0 and _puts(sim) == 1


def test_the_terminal_confirmation_names_the_subdomain_copies(
    project: Path, sim: Simulator
) -> None:
    """At a terminal (a pty), the question itself says the subdomains change too."""
    _set_on_charter(sim, "has_subdomain_copies")
    _drift(sim)
    code, output = publish_at_a_terminal(project, b"n\n")
    assert code == 1
    assert b"and to every subdomain's copy of the page? [y/N]" in output
    assert _puts(sim) == 0


# -- errors that say what to do --------------------------------------------


def test_403_names_the_permissions_the_key_needs(
    cli, project: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ODS_API_KEY", READ_ONLY_KEY)
    _drift(sim)
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2
    assert "permissions to browse pages and edit pages" in result.err
    assert "manage the pages' security (the update sends is_restricted)" in result.err


def test_404_tells_a_wrong_slug_from_a_portal_without_the_api(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    project.write_text(project.read_text().replace(f'slug = "{SLUG}"', 'slug = "cookies"'))
    wrong = cli("publish", "--config", project, "--dry-run")
    assert wrong.code == 2 and "no code editor page with slug 'cookies'" in wrong.err
    assert "pages that look like a cookie page: charte-cookies" in wrong.err
    assert "accueil" not in wrong.err

    # A page holding a cookie table is named whatever its slug.
    legal = sim.store.page("contact")
    assert legal is not None
    legal["slug"] = "informations-legales"
    legal["content"]["html"]["fr"] = _api_html(sim)
    sim.store.put_raw_page(legal)
    listed = cli("publish", "--config", project, "--dry-run")
    assert "informations-legales" in listed.err

    sim.platform.automation_api = False
    absent = cli("publish", "--config", project, "--dry-run")
    assert absent.code == 2 and "Automation API is not available" in absent.err
    assert "plan includes the Automation API" in absent.err


def test_a_used_up_daily_quota_stops_at_once_with_the_reset_time(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    sim.platform.quota_exhausted = True
    raw = requests.get(
        sim.base_url + API, headers={"Authorization": f"apikey {API_KEY}"}, timeout=5
    )
    assert raw.status_code == 429 and raw.headers["X-RateLimit-Remaining"] == "0"
    reset = raw.json()["reset_time"]
    sim.server.request_log.clear()
    result = cli("sync", "--config", project, "--yes")
    assert result.code == 2 and f"resets at {reset}" in result.err
    assert "10000 calls per day" in result.err
    assert len(sim.requests) == 1  # no retry: a daily quota does not come back in seconds


def test_a_short_429_with_retry_after_is_retried(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    sim.faults.arm({"fail_count": 1, "fail_status": 429, "retry_after": "0"})
    result = cli("sync", "--config", project, "--yes")
    assert result.code == 0, result.all
    assert _puts(sim) == 1
    # A rate limit with no calls left but a short Retry-After is a pause, not a quota.
    sim.server.request_log.clear()
    sim.platform.throttled = 1
    again = cli("check", "--config", project, "--source", "api")
    assert again.code == 0, again.all
    assert [r["method"] for r in sim.requests] == ["GET", "GET"]


# The contract lists only the slashed paths; the platform takes both.
@pytest.mark.off_contract("answers")
def test_the_api_takes_paths_with_or_without_the_trailing_slash(sim: Simulator) -> None:
    auth = {"Authorization": f"apikey {API_KEY}"}
    for path in (API + SLUG, API + SLUG + "/", API.rstrip("/"), API):
        assert requests.get(sim.base_url + path, headers=auth, timeout=5).status_code == 200, path
    assert (
        requests.get(sim.base_url + API + SLUG + "//", headers=auth, timeout=5).status_code == 404
    )


def test_platform_switches_are_set_over_http(sim: Simulator) -> None:
    admin = sim.base_url + "/__simulator__/platform"
    on = requests.post(admin, json={"publish_step": True, "cache_delay": 2}, timeout=5)
    assert on.status_code == 200 and on.json()["publish_step"] is True
    assert requests.get(admin, timeout=5).json()["cache_delay"] == 2
    for bad in ({"teleport": True}, [1], "{"):
        sent = requests.post(admin, data=json.dumps(bad) if bad != "{" else bad, timeout=5)
        assert sent.status_code == 400, bad
