"""The consent-aware browser scan against the simulator's banner and analytics tag.

The simulator's pages carry a working consent banner shaped like Opendatasoft's
and, here, a Matomo-like tag: a first-party ``_pk_id.1.5f3a`` cookie (393 days)
and ``_pk_ses.1.5f3a`` (30 minutes) set by JavaScript, and a hit on a tracker
listening on another loopback address. The ``consent`` fault makes it measure
before any choice, or after a refusal.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ods_charter.browser import chromium_path
from ods_charter.registry import Cookie
from ods_charter.scan import (
    Finding,
    ScanResult,
    SeenCookie,
    StateSeen,
    assess_consent,
    needs_consent,
)
from ods_charter.simulator import Simulator

from .conftest import write_config

browser = pytest.mark.skipif(
    not (importlib.util.find_spec("playwright") and chromium_path()),
    reason="needs Playwright and the system's Chromium (apt-get install chromium)",
)
MATOMO = (
    '\n[[cookies]]\nname = "_pk_id*"\nprovider = "Matomo"\ncategory = "statistics"\n'
    'lifetime_days = 395\npurpose.fr = "Mesure d\'audience"\npurpose.en = "Audience"\n'
    '\n[[cookies]]\nname = "_pk_ses*"\nprovider = "Matomo"\ncategory = "statistics"\n'
    'lifetime_days = 1\npurpose.fr = "Mesure d\'audience"\npurpose.en = "Audience"\n'
)
ONLY_HOME = '[scan]\npaths = ["/"]\n'


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Simulator]:
    with Simulator(state_dir=tmp_path / "portal", analytics=True) as simulator:
        yield simulator


def _scan(cli, config: Path, *extra: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def, type-arg]
    result = cli("scan", "--config", config, "--browser", "--path", "/", "--format", "json", *extra)
    assert result.code in {0, 1}, result.all
    return result.code, json.loads(result.out)


def _errors(report: dict) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return sorted(
        (f["kind"], f["cookie"], f["state"]) for f in report["findings"] if f["severity"] == "error"
    )


def _state(report: dict, name: str) -> dict:  # type: ignore[type-arg]
    return next(s for s in report["states"] if s["state"] == name)


@browser
def test_analytics_waits_for_consent(cli, portal: Simulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path / "project", portal.base_url)
    har = tmp_path / "evidence.har"
    code, report = _scan(cli, config, "--har", har)
    assert code == 1 and _errors(report) == []
    none, refuse, accept = (_state(report, s) for s in ("none", "refuse", "accept"))
    assert refuse["banner"] == accept["banner"] == "Opendatasoft"
    assert {c["name"] for c in none["cookies"]} == {"csrftoken", "django_language"}
    assert {c["name"] for c in refuse["cookies"]} == {
        "csrftoken",
        "django_language",
        "cookies_preferences",
    }
    pk = next(c for c in accept["cookies"] if c["name"] == "_pk_id.1.5f3a")
    assert round(pk["lifetime_days"]) == 393 and pk["first_url"].startswith(portal.base_url)
    assert "127.0.0.2" in accept["third_parties"] and "127.0.0.2" not in none["third_parties"]
    found = report["findings"]
    undeclared = {f["cookie"]: f["message"] for f in found if f["kind"] == "undeclared"}
    assert set(undeclared) == {"_pk_id.1.5f3a", "_pk_ses.1.5f3a"}
    assert undeclared["_pk_id.1.5f3a"].endswith("(seen in: accept all)")
    assert "ods-cookie-banner-displayed" in none["local_storage"]
    assert report["evidence"]["browser"] and report["evidence"]["observed_at"]
    assert len(portal.tracker_hits) == 1  # the accept state only
    entries = json.loads(har.read_text())["log"]["entries"]
    tracker = [e for e in entries if "/matomo.php" in e["request"]["url"]]
    assert [e["pageref"].split(":")[0] for e in tracker] == ["accept"]


@browser
def test_tracker_before_consent_is_an_error(cli, portal: Simulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path / "project", portal.base_url)
    registry = config.parent / "registry.toml"
    registry.write_text(registry.read_text() + MATOMO)
    portal.faults.arm({"consent": "before_consent"})
    evidence, copy = tmp_path / "evidence.html", tmp_path / "scan.json"
    code, report = _scan(cli, config, "--evidence", evidence, "--json-output", copy)
    assert code == 1
    # One scan, three reports: JSON on stdout, the same JSON in a file, the evidence.
    assert json.loads(copy.read_text()) == report
    assert _errors(report) == [
        ("after_refusal", "_pk_id.1.5f3a", "refuse"),
        ("after_refusal", "_pk_ses.1.5f3a", "refuse"),
        ("before_consent", "_pk_id.1.5f3a", "none"),
        ("before_consent", "_pk_ses.1.5f3a", "none"),
    ]
    first = next(f for f in report["findings"] if f["kind"] == "before_consent")
    assert first["url"] == f"{portal.base_url}/?flg=fr"
    assert "no interaction" in first["message"] and first["url"] in first["message"]
    hosts = [f["cookie"] for f in report["findings"] if f["kind"] == "third_party"]
    assert hosts == ["127.0.0.2", "127.0.0.2"]  # before consent, after refusal

    html = evidence.read_text()
    for state in ("no interaction", "refuse all", "accept all"):
        assert f"<th>observed: {state}</th>" in html
    row = html[html.index("<code>_pk_id*</code>") :].split("</tr>")[0]
    assert row.startswith("<code>_pk_id*</code></td><td>statistics, 395 d</td>")
    assert "<code>_pk_id.1.5f3a</code> 393 d" in row and "before consent" in row
    assert "not on the page" in row  # the STAR charter does not list Matomo yet
    ses = html[html.index("<code>_pk_ses*</code>") :].split("</tr>")[0]
    assert "<code>_pk_ses.1.5f3a</code> 30 min" in ses
    assert f"Chromium {report['evidence']['browser']}" in html
    assert f"<code>{portal.base_url}/?flg=fr</code>" in html
    assert "other hosts contacted: 127.0.0.2" in html
    assert "no interaction: <code>ods-cookie-banner-displayed</code>" in html  # localStorage

    portal.faults.clear()
    code, report = _scan(cli, config)
    assert _errors(report) == [] and code == 0, report["findings"]


@browser
def test_refusal_ignored_is_an_error(cli, portal: Simulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = write_config(
        tmp_path / "project",
        portal.base_url,
        # The portal's own selectors win over the defaults.
        extra='[consent]\naccept = ".ods-cookie-consent .ods-button:not(.ods-button--secondary)"\n'
        'refuse = ".ods-cookie-consent .ods-button--secondary"\n',
    )
    portal.faults.arm({"consent": "ignore_refusal"})
    _, report = _scan(cli, config)
    assert _state(report, "refuse")["banner"] == "portal.toml [consent]"
    assert _errors(report) == [
        ("after_refusal", "_pk_id.1.5f3a", "refuse"),
        ("after_refusal", "_pk_ses.1.5f3a", "refuse"),
    ]


@browser
def test_the_browser_asks_for_a_language_by_the_portals_flg_code(
    cli, portal: Simulator, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    portal.platform.flg_codes = {"en": "en-gb"}
    config = write_config(tmp_path / "project", portal.base_url, ("fr", "en"))
    config.write_text(config.read_text().replace("[page]\n", '[page]\nflg = { en = "en-gb" }\n'))
    portal.server.request_log.clear()
    _, report = _scan(cli, config, "--lang", "en")
    assert report["urls"] == [f"{portal.base_url}/?flg=en-gb"]
    home = [r["query"] for r in portal.requests if r["path"] == "/"]
    assert len(home) >= 4 and set(home) == {"flg=en-gb"}  # the HTTP visit, then each state


@browser
def test_missing_banner_is_a_finding_not_a_crash(cli, portal: Simulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path / "project", portal.base_url)
    result = cli(
        "scan", "--config", config, "--browser", "--format", "json",
        "--path", "/api/explore/v2.1/catalog/datasets/?limit=1",
    )  # fmt: skip
    report = json.loads(result.out)
    banners = [(f["kind"], f["state"]) for f in report["findings"] if f["kind"] == "no_banner"]
    assert banners == [("no_banner", "refuse"), ("no_banner", "accept")]
    assert result.code == 0  # information: nothing was set that needed a choice


def test_har_needs_the_browser(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path / "project", "http://127.0.0.1:9")
    result = cli("scan", "--config", config, "--har", tmp_path / "x.har")
    assert result.code == 2 and "--har needs --browser" in result.err
    fleet = cli("scan", "--all", "--browser", "--har", tmp_path / "x.har")
    assert fleet.code == 2 and "one portal at a time" in fleet.err


@browser
def test_a_fleet_shows_which_portals_break_consent(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with (
        Simulator(state_dir=tmp_path / "s0", analytics=True) as faulty,
        Simulator(state_dir=tmp_path / "s1", analytics=True) as sound,
    ):
        faulty.faults.arm({"consent": "ignore_refusal"})
        configs = []
        for name, sim in (("faulty", faulty), ("sound", sound)):
            config = write_config(tmp_path / name, sim.base_url, name=name, extra=ONLY_HOME)
            registry = config.parent / "registry.toml"
            registry.write_text(registry.read_text() + MATOMO)
            configs += ["--config", config]
        result = cli("scan", *configs, "--browser", "--format", "markdown")
        junit = cli("scan", *configs, "--browser", "--format", "junit")
    assert result.code == junit.code == 1, result.all
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in result.out.splitlines()]
    header, _, *rows = cells[4:]
    table = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert header == [
        "portal", "status", "before_consent", "after_refusal", "undeclared", "lifetime",
        "insecure", "third_party", "no_banner", "not_seen", "error",
    ]  # fmt: skip
    # Matomo measured after "refuse all": its two cookies and its tracker host;
    # an anonymous visitor never gets the login cookie (sessionid).
    assert table["faulty"] == {
        "portal": "faulty", "status": "findings", "before_consent": "0", "after_refusal": "2",
        "undeclared": "0", "lifetime": "0", "insecure": "0", "third_party": "1",
        "no_banner": "0", "not_seen": "1", "error": "",
    }  # fmt: skip
    assert table["sound"]["status"] == "ok"
    assert "findings: 2 after_refusal, 1 third_party" in junit.out


def test_consent_fault_refuses_unknown_modes(portal: Simulator) -> None:
    url = f"{portal.base_url}/__simulator__/faults"
    assert requests.post(url, json={"consent": "sometimes"}, timeout=5).status_code == 400
    assert requests.post(url, json={"consent": "before_consent"}, timeout=5).status_code == 200
    assert portal.faults.consent == "before_consent"


@pytest.mark.parametrize(
    ("cookie", "needs"),
    [
        (None, True),  # undeclared: never presumed harmless
        (Cookie("a", "X", "necessary"), False),
        (Cookie("a", "X", "statistics"), True),
        (Cookie("a", "X", "statistics", lifetime_days=390, consent_exempt=True), False),
        # The CNIL's conditions for audience measurement without consent:
        (Cookie("a", "X", "statistics", lifetime_days=800, consent_exempt=True), True),
        (Cookie("a", "X", "statistics", consent_exempt=True), True),  # lifetime unknown
        (
            Cookie("a", "X", "statistics", lifetime_days=30, consent_exempt=True, third_party=True),
            True,
        ),
        (Cookie("a", "X", "third_party", lifetime_days=30, consent_exempt=True), True),
    ],
)
def test_which_cookies_need_consent(cookie: Cookie | None, needs: bool) -> None:
    assert needs_consent(cookie) is needs


@pytest.mark.skipif(not importlib.util.find_spec("playwright"), reason="needs Playwright")
def test_a_browser_that_cannot_start_is_one_line(  # type: ignore[no-untyped-def]
    cli, portal: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ODS_CHROMIUM", str(tmp_path / "no-such-chrome"))
    config = write_config(tmp_path / "project", portal.base_url)
    result = cli("scan", "--config", config, "--browser", "--path", "/")
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("error: cannot start Chromium") and result.err.count("\n") == 1


def test_a_finding_about_no_cookie_reads_well() -> None:
    from ods_charter.reports import render
    from ods_charter.reports.build import from_scan

    message = "no consent banner found to accept"
    result = ScanResult(["https://x.org/"], findings=[Finding("no_banner", "", message, "accept")])
    text = render(from_scan(result, "portal"), "text")
    assert "consent banner (information)" in text
    assert f": {message}" not in text and message in text
    assert result.exit_code == 0
    markdown = render(from_scan(result, "portal"), "markdown")
    assert message in markdown and f": {message}" not in markdown


def test_which_hosts_count_as_third_parties(tmp_path: Path) -> None:
    from ods_charter.config import load_config
    from ods_charter.registry import load_registry

    extra = '[consent]\nthird_party_ok = ["fonts.example.net"]\n'
    config = load_config(write_config(tmp_path / "p", "https://data.example.org", extra=extra))
    page = "https://data.example.org/"
    hosts = {
        "data.example.org": page,  # the portal
        "static.data.example.org": page,  # one of its subdomains
        "fonts.example.net": page,  # allowed in [consent]
        "cdn.fonts.example.net": page,  # below an allowed host
        "stats.tracker.example": page,
    }
    cookie = SeenCookie("csrftoken", "data.example.org", "/", 364.0, True, False, "Lax", page)
    states = [StateSeen("none", [cookie], third_parties=hosts)]
    findings = assess_consent(load_registry(config.registry_path), states, config)
    assert [(f.kind, f.cookie) for f in findings] == [("third_party", "stats.tracker.example")]


def test_over_13_months_is_a_finding_declared_or_not(tmp_path: Path) -> None:
    from ods_charter.registry import Registry
    from ods_charter.scan import assess

    def seen(name: str, days: float) -> SeenCookie:
        return SeenCookie(name, "x.org", "/", days, True, True, "Lax", "https://x.org/")

    declared = Cookie("_long", "X", "statistics", lifetime_days=800)
    registry = Registry(("fr",), (declared,))
    cookies = [seen("_long", 790), seen("_stray", 730), seen("_short", 390)]
    found = sorted((f.kind, f.cookie) for f in assess(registry, cookies, require_secure=True))
    assert found == [
        ("lifetime", "_long"),  # as declared, yet over 13 months
        ("lifetime", "_stray"),
        ("undeclared", "_short"),
        ("undeclared", "_stray"),
    ]
