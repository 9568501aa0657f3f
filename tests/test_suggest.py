"""suggest: registry entries for undeclared cookies, from Opendatasoft's own table
and the vendored Open Cookie Database; TODO wherever a person must write.

Expected values are read by hand from the database's CSV rows (quoted in the
comments), not from suggest's output.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from ods_charter.cookiedb import retention_days
from ods_charter.simulator import Simulator

from .conftest import STAR_PAGE, write_config
from .test_consent_scan import browser

SMALL_REGISTRY = """# Our registry: comments like this one must survive --write.
schema_version = 1
languages = ["fr", "en"]

[[cookies]]
name = "csrftoken"  # the API's CSRF token
provider = "Opendatasoft"
category = "necessary"
lifetime_days = 365
purpose.fr = "Récupérer des données via des appels API"
purpose.en = "Retrieve data through API calls"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    config = write_config(tmp_path / "project", "https://data.example.org", ("fr", "en"))
    (config.parent / "registry.toml").write_text(SMALL_REGISTRY, encoding="utf-8")
    return config


def _entries(text: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {c["name"]: c for c in tomllib.loads(text)["cookies"]}


def _who(entry: dict) -> tuple[str, str, int]:  # type: ignore[type-arg]
    return entry["provider"], entry["category"], entry["lifetime_days"]


def test_sessionid_depends_on_who_set_it(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    own = cli("suggest", "sessionid", "--config", project, "--domain", "data.example.org")
    entry = _entries(own.out)["sessionid"]
    assert _who(entry) == ("Opendatasoft", "necessary", 14)
    assert entry["purpose"]["fr"] == "Se souvenir de l'utilisateur d'une page à une autre."
    assert "confidence high" in own.out
    # "Instagram,Marketing,sessionid,instagram.com,...,1 year,Meta"
    insta = cli("suggest", "sessionid", "--config", project, "--domain", ".instagram.com")
    entry = _entries(insta.out)["sessionid"]
    assert _who(entry) == ("Instagram", "third_party", 365)
    assert entry["third_party"] is True and entry["purpose"]["fr"] == "TODO"


def test_prefix_rows_and_retention_text(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("suggest", "_pk_id.1.5f3a", "_pk_id.7.0000", "_ga", "--config", project)
    assert result.code == 0
    entries = _entries(result.out)
    # "Matomo,Analytics,_pk_id,,Used to store a few details about the user such as
    #  the unique visitor ID,13 months,Matomo,...,1" (wildcard): one entry covers both.
    assert set(entries) == {"_pk_id*", "_ga"}
    pk = entries["_pk_id*"]
    assert _who(pk) == ("Matomo", "statistics", 395)
    assert pk["purpose"] == {
        "fr": "TODO",
        "en": "Used to store a few details about the user such as the unique visitor ID",
    }
    # "Google Analytics,Analytics,_ga,,ID used to identify users,2 years,Google,...,0"
    assert _who(entries["_ga"]) == ("Google Analytics", "statistics", 730)
    assert "# suggested by ods-charter from Open Cookie Database (Matomo" in result.out


def test_unknown_cookie_is_all_todo(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("suggest", "zz_portal_widget", "--config", project)
    entry = _entries(result.out)["zz_portal_widget"]
    assert entry["provider"] == entry["category"] == "TODO" and "lifetime_days" not in entry
    assert "confidence none" in result.out


def test_covered_cookies_get_no_suggestion(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("suggest", "csrftoken", "--config", project)
    assert result.code == 0 and result.out == "" and "nothing to suggest" in result.err


def test_a_language_the_database_lacks(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path / "p", "https://data.example.org")
    registry = config.parent / "registry.toml"
    registry.write_text(SMALL_REGISTRY.replace('["fr", "en"]', '["fr"]').replace(
        'purpose.en = "Retrieve data through API calls"\n', ""
    ))  # fmt: skip
    result = cli("suggest", "_ga", "--config", config)
    assert _entries(result.out)["_ga"]["purpose"] == {"fr": "TODO"}
    assert "# purpose (en): ID used to identify users" in result.out


def test_write_keeps_the_file_and_validate_refuses_todo(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    registry = project.parent / "registry.toml"
    result = cli("suggest", "_pk_id.1.5f3a", "--config", project, "--write")
    assert result.code == 0 and "nothing was published" in result.err
    text = registry.read_text(encoding="utf-8")
    assert text.startswith(SMALL_REGISTRY)  # every byte, comments included
    refused = cli("validate", "--config", project)
    assert refused.code == 2
    assert "'_pk_id*', field 'purpose.fr': still TODO" in refused.err
    blocked = cli("check", "--config", project, "--file", STAR_PAGE)  # nor can anything else
    assert blocked.code == 2 and "still TODO" in blocked.err
    registry.write_text(text.replace('"TODO"', '"Mesure d\'audience"'), encoding="utf-8")
    accepted = cli("validate", "--config", project)
    assert accepted.code == 0, accepted.err
    again = cli("suggest", "_pk_id.1.5f3a", "--config", project, "--write")
    assert "nothing to suggest" in again.err


def test_bad_input_is_one_line(cli, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "scan.json"
    bad.write_text('{"status": "ok"}')
    result = cli("suggest", "--from-scan", bad, "--config", project)
    assert result.code == 2 and str(bad) in result.err and "Traceback" not in result.err
    both = cli("suggest", "x", "--from-scan", bad, "--config", project)
    assert both.code == 2 and "one of them" in both.err
    alone = cli("suggest", "x", "--browser", "--config", project)
    assert alone.code == 2 and "--browser goes with --scan" in alone.err
    for urls in ('["http://[::1"]', "[1]"):  # a page address that is no URL
        bad.write_text(f'{{"urls": {urls}, "cookies": [], "findings": []}}')
        odd = cli("suggest", "--from-scan", bad, "--config", project)
        assert odd.code == 2 and "not a scan report" in odd.err, odd.all
        assert odd.err.count("\n") == 1


@pytest.mark.parametrize(
    ("text", "days", "exact"),
    [
        ("13 months", 395, True),
        ("1 Year", 365, True),
        ("Session", 0, True),
        ("End of session (browser)", 0, True),
        ("30 minutes", 1, True),  # shorter than a day, yet not a session cookie
        ("2 Weeks", 14, True),
        ("2 years after last activity", 730, False),
        ("Unknown", None, False),
        ("forever", None, False),
    ],
)
def test_retention_in_days(text: str, days: int | None, exact: bool) -> None:
    assert retention_days(text) == (days, exact)


@browser
def test_loop_scan_then_suggest(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with Simulator(state_dir=tmp_path / "portal", analytics=True) as portal:
        config = write_config(tmp_path / "project", portal.base_url)
        report = tmp_path / "scan.json"
        args = ("scan", "--config", config, "--browser", "--path", "/", "--format", "json")
        assert cli(*args, "--output", report).code == 1
        result = cli("suggest", "--from-scan", report, "--config", config, "--write")
        assert set(_entries(result.out)) == {"_pk_id*", "_pk_ses*"}
        registry = config.parent / "registry.toml"
        registry.write_text(registry.read_text().replace('"TODO"', '"Mesure d\'audience"'))
        assert cli("validate", "--config", config).code == 0
        after = json.loads(cli(*args).out)
        assert [f for f in after["findings"] if f["kind"] == "undeclared"] == []


def test_a_parent_domain_cookie_is_the_portals_own(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("suggest", "sessionid", "--config", project, "--domain", ".example.org")
    assert _who(_entries(result.out)["sessionid"]) == ("Opendatasoft", "necessary", 14)


def test_suggest_can_scan_first(cli, tmp_path: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path / "p", sim.base_url)
    # "Hotjar,Analytics,_hjid,,Hotjar cookie. This cookie is set when the customer
    #  first lands on a page with the Hotjar script...,365 days,Hotjar"
    sim.set_cookies(["_hjid=42; Max-Age=31536000; Path=/", "zz_widget=1; Max-Age=864000; Path=/"])
    result = cli("suggest", "--scan", "--config", config)
    assert result.code == 0, result.err
    entries = _entries(result.out)
    assert _who(entries["_hjid"]) == ("Hotjar", "statistics", 365)
    # Unknown to every source: at least the lifetime the portal gave it (10 days).
    assert _who(entries["zz_widget"]) == ("TODO", "TODO", 10)
    assert "# lifetime as observed" in result.out
