"""Reality check: cookies the simulator really sets, and the registry rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ods_charter.lint import RULES, lint
from ods_charter.registry import load_registry, registry_from_data
from ods_charter.scan import parse_set_cookie
from ods_charter.simulator import Simulator

from .conftest import REGISTRY


def _scan(cli, project: Path, *extra: str):  # type: ignore[no-untyped-def]
    result = cli("scan", "--config", project, "--format", "json", *extra)
    return result.code, json.loads(result.out) if result.out.strip() else None, result


def test_normal_portal_has_nothing_to_fix(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    code, report, _ = _scan(cli, project)
    assert code == 0, report
    seen = {c["name"]: c for c in report["cookies"]}
    assert set(seen) == {"csrftoken", "django_language"}
    assert round(seen["csrftoken"]["lifetime_days"]) == 364
    assert seen["csrftoken"]["samesite"] == "Lax" and seen["csrftoken"]["path"] == "/"
    not_seen = sorted(f["cookie"] for f in report["findings"] if f["kind"] == "not_seen")
    assert not_seen == ["cookies_preferences", "sessionid"]
    urls = report["urls"]
    assert len(urls) == 4 * 2 and any(u.endswith("flg=en") for u in urls)
    assert any("/pages/charte-cookies/?flg=fr" in u for u in urls)


def test_each_language_is_asked_by_the_portals_flg_code(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    """A portal whose English is ``?flg=en-gb`` serves its default language to
    ``?flg=en``: the scan must ask for English the way check and sync do."""
    sim.platform.flg_codes = {"en": "en-gb"}
    project.write_text(project.read_text().replace("[page]\n", '[page]\nflg = { en = "en-gb" }\n'))
    sim.server.request_log.clear()
    code, report, _ = _scan(cli, project, "--path", "/")
    assert code == 0, report
    assert report["urls"] == [f"{sim.base_url}/?flg=fr", f"{sim.base_url}/?flg=en-gb"]
    assert sorted(r["query"] for r in sim.requests if r["path"] == "/") == ["flg=en-gb", "flg=fr"]


def test_each_finding_appears_exactly_once(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    sim.set_cookies(
        [
            "_hjSessionUser_123=abc; Max-Age=31536000; Path=/",  # undeclared tracker
            "sessionid=s3cret; Max-Age=2592000; Path=/; SameSite=Lax",  # 30 d > 14 d, no HttpOnly
        ]
    )
    code, report, _ = _scan(cli, project)
    assert code == 1
    findings = [(f["kind"], f["cookie"]) for f in report["findings"] if f["kind"] != "not_seen"]
    # The tracker comes with the first answer: before the visitor could say anything.
    assert sorted(findings) == [
        ("before_consent", "_hjSessionUser_123"),
        ("insecure", "sessionid"),
        ("lifetime", "sessionid"),
        ("undeclared", "_hjSessionUser_123"),
    ]
    text = cli("scan", "--config", project).out
    assert "set by the portal, absent from the registry" in text and "_hjSessionUser_123" in text


def test_a_cookie_set_by_a_redirect_is_seen(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    """A portal that answers /pages/x with a redirect to /pages/x/ may set a
    cookie on the way: the visitor's browser keeps it, so the scan must too."""
    sim.faults.arm(
        {"redirect": 1, "redirect_to": sim.base_url, "redirect_cookie": "hop_id=1; Path=/"}
    )
    code, report, _ = _scan(cli, project, "--path", "/")
    assert code == 1, report
    found = [(f["kind"], f["cookie"]) for f in report["findings"] if f["kind"] != "not_seen"]
    assert sorted(found) == [("before_consent", "hop_id"), ("undeclared", "hop_id")]


def test_missing_secure_on_https(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    project.write_text(project.read_text() + "[scan]\nrequire_secure = true\n")
    code, report, _ = _scan(cli, project)
    assert code == 1
    insecure = sorted(f["cookie"] for f in report["findings"] if f["kind"] == "insecure")
    assert insecure == ["csrftoken", "django_language"]


def test_patterns_cover_observed_names(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    registry = project.parent / "registry.toml"
    registry.write_text(
        registry.read_text()
        + '\n[[cookies]]\nname = "_pk_id*"\nprovider = "Matomo"\ncategory = "statistics"\n'
        'lifetime_days = 390\nconsent_exempt = true\npurpose.fr = "Audience"\n'
        'purpose.en = "Audience"\n'
    )
    # Exempt from consent (first-party statistics, 13 months): allowed before any choice.
    sim.set_cookies(["_pk_id.1.a2b3=xyz; Max-Age=33696000; Path=/"])
    code, report, _ = _scan(cli, project, "--path", "/")
    assert [f["kind"] for f in report["findings"] if f["cookie"].startswith("_pk")] == []
    assert code == 0


def test_set_cookie_parsing() -> None:
    cookie = parse_set_cookie(
        "a=b; Expires=Wed, 21 Oct 2099 07:28:00 GMT; Secure; HttpOnly; Domain=.x.org",
        "https://data.x.org/",
    )
    assert cookie is not None and cookie.secure and cookie.httponly and cookie.domain == ".x.org"
    assert cookie.lifetime_days is not None and cookie.lifetime_days > 365 * 70
    session = parse_set_cookie("s=1; Path=/", "https://x.org/")
    assert session is not None and session.lifetime_days is None
    assert parse_set_cookie("garbage", "https://x.org/") is None


def test_browser_scan_without_browser_says_how_to_install(cli, project: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PATH", "/nonexistent")
    result = cli("scan", "--config", project, "--browser")
    assert result.code == 2 and "apt-get install chromium" in result.err


# -- lint --------------------------------------------------------------------


def test_shipped_registry_passes_lint(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("lint", "--config", REGISTRY.parent / "portal.toml")
    assert result.code == 0 and "passes every rule" in result.out
    assert lint(load_registry(REGISTRY)) == []


def _registry(tmp_path: Path, **cookie: object) -> object:
    base = {"name": "x", "provider": "P", "purpose": {"fr": "Une finalité"}, "lifetime_days": 30}
    return registry_from_data(
        {"schema_version": 1, "languages": ["fr"], "cookies": [{**base, **cookie}]},
        tmp_path / "r.toml",
    )


TRIPS = {
    "lifetime-over-13-months": [{"lifetime_days": 400}],
    "consent-choice-over-6-months": [{"stores_consent": True, "lifetime_days": 365}],
    "purpose-missing": [{"category": "statistics", "purpose": {"fr": "[to translate] Audience"}}],
    "lifetime-missing": [{"lifetime_days": None}],
    "exempt-but-third-party": [
        {"category": "statistics", "consent_exempt": True, "third_party": True}
    ],
    "exempt-not-statistics": [{"consent_exempt": True}],
    "overlapping-patterns": [{"name": "_pk*"}, {"name": "_pk_id*"}],
    "template-braces": [{"purpose": {"fr": "{{ constructor.constructor('alert(1)')() }}"}}],
}


@pytest.mark.parametrize("rule", [r.id for r in RULES])
def test_each_rule_has_a_registry_that_trips_it(rule: str, tmp_path: Path) -> None:
    cookies = [
        {
            "name": f"c{i}",
            "provider": "P",
            "purpose": {"fr": "Une finalité"},
            "lifetime_days": 30,
            **{k: v for k, v in spec.items() if v is not None},
        }
        for i, spec in enumerate(TRIPS[rule])
    ]
    for c, spec in zip(cookies, TRIPS[rule], strict=True):
        if spec.get("lifetime_days", 0) is None:
            del c["lifetime_days"]
    registry = registry_from_data(
        {"schema_version": 1, "languages": ["fr"], "cookies": cookies}, tmp_path / "r.toml"
    )
    assert [f.rule for f in lint(registry)] == [rule]


def test_lint_cli_exit_codes_and_formats(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "registry.toml").write_text(
        'schema_version = 1\nlanguages = ["fr"]\n[[cookies]]\nname = "x"\nprovider = "P"\n'
        'purpose.fr = "Finalité"\nlifetime_days = 500\n'
    )
    config = tmp_path / "portal.toml"
    config.write_text('[portal]\nbase_url = "https://x.org"\n[page]\nslug = "s"\n')
    result = cli("lint", "--config", config, "--format", "json")
    assert result.code == 1
    assert json.loads(result.out)["findings"][0]["rule"] == "lifetime-over-13-months"
    listed = cli("lint", "--list")
    assert listed.code == 0 and all(r.id in listed.out for r in RULES)
    broken = cli("lint", "--config", tmp_path / "nope.toml")
    assert broken.code == 2


def _browser_ready() -> bool:
    import importlib.util
    import shutil

    return bool(importlib.util.find_spec("playwright") and shutil.which("chromium"))


@pytest.mark.skipif(
    not _browser_ready(),
    reason="needs Playwright (pip install 'ods-charter[browser]') and apt-get install chromium",
)
def test_browser_scan_records_javascript_storage(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    sim.set_cookies(["_hjid=1; Max-Age=31536000; Path=/"])
    result = cli(
        "scan",
        "--config",
        project,
        "--browser",
        "--path",
        "/pages/charte-cookies/",
        "--format",
        "json",
    )
    report = json.loads(result.out)
    assert result.code == 1
    assert "ods-cookie-banner-displayed" in report["local_storage"]
    assert [f["cookie"] for f in report["findings"] if f["kind"] == "undeclared"] == ["_hjid"]
