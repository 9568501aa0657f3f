"""What the portal really sets: visit pages like a browser, record every cookie,
and hold the registry to it."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ods_charter.config import PortalConfig
from ods_charter.consent import STATE_LABELS
from ods_charter.exitcode import ExitCode
from ods_charter.fetch import with_language
from ods_charter.lint import MAX_LIFETIME_DAYS
from ods_charter.registry import Cookie, Registry
from ods_charter.transport import Transport

if TYPE_CHECKING:
    from ods_charter.browser import BrowserCookie

# Login session cookies: stealing one is stealing the account, so HttpOnly is a must.
_AUTH_COOKIE = re.compile(
    r"^(sessionid|session|sid|phpsessid|jsessionid|connect\.sid|.+_session)$", re.I
)
_LIFETIME_SLACK_DAYS = 1  # Max-Age rounding and clock skew are not findings


@dataclass
class SeenCookie:
    name: str
    domain: str
    path: str
    lifetime_days: float | None  # None: a session cookie, gone with the browser
    secure: bool
    httponly: bool
    samesite: str | None
    first_url: str


@dataclass
class Finding:
    # before_consent | after_refusal (errors); undeclared | lifetime | insecure |
    # third_party (warnings); not_seen | no_banner (information)
    kind: str
    cookie: str  # the cookie's name, or a host for third_party
    message: str
    state: str = ""  # the consent state it was seen in, when it matters
    url: str = ""

    @property
    def severity(self) -> str:
        if self.kind in ERRORS:
            return "error"
        return "info" if self.kind in INFORMATION else "warning"


# Every kind of finding, the most severe first: reports list them in this order
# and a fleet scan gives each its own column.
FINDING_KINDS = (
    "before_consent",
    "after_refusal",
    "undeclared",
    "lifetime",
    "insecure",
    "third_party",
    "no_banner",
    "not_seen",
)
ERRORS = {"before_consent", "after_refusal"}
INFORMATION = {"not_seen", "no_banner"}
# Only a browser visit can refuse, find a banner or see the hosts a page contacts.
BROWSER_ONLY = {"after_refusal", "third_party", "no_banner"}


@dataclass
class StateSeen:
    """What a visitor meets in one consent state (see :mod:`ods_charter.consent`)."""

    state: str
    cookies: list[SeenCookie] = field(default_factory=list)
    local_storage: list[str] = field(default_factory=list)
    session_storage: list[str] = field(default_factory=list)
    third_parties: dict[str, str] = field(default_factory=dict)  # host -> page URL
    banner: str | None = None


@dataclass
class ScanResult:
    urls: list[str]
    cookies: list[SeenCookie] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    local_storage: list[str] = field(default_factory=list)
    states: list[StateSeen] = field(default_factory=list)
    evidence: dict[str, str] = field(default_factory=dict)  # when and how it was observed

    @property
    def exit_code(self) -> ExitCode:
        failed = any(f.kind not in INFORMATION for f in self.findings)
        return ExitCode.CHANGES if failed else ExitCode.OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "findings" if self.exit_code else "ok",
            "urls": self.urls,
            "cookies": [asdict(c) for c in self.cookies],
            "findings": [{**asdict(f), "severity": f.severity} for f in self.findings],
            "local_storage": self.local_storage,
            "states": [asdict(s) for s in self.states],
            "evidence": self.evidence,
        }


def parse_set_cookie(header: str, url: str, now: datetime | None = None) -> SeenCookie | None:
    """One ``Set-Cookie`` header value, as a browser would store it."""
    parts = [p.strip() for p in header.split(";")]
    if not parts or "=" not in parts[0]:
        return None
    name = parts[0].split("=", 1)[0].strip()
    attrs: dict[str, str] = {}
    flags: set[str] = set()
    for part in parts[1:]:
        if "=" in part:
            key, value = part.split("=", 1)
            attrs[key.strip().lower()] = value.strip()
        elif part:
            flags.add(part.lower())
    lifetime: float | None = None
    if "max-age" in attrs:
        try:
            lifetime = max(0, int(attrs["max-age"])) / 86400
        except ValueError:
            lifetime = None
    elif "expires" in attrs:
        try:
            expires = parsedate_to_datetime(attrs["expires"])
            moment = now or datetime.now(UTC)
            lifetime = max(0.0, (expires - moment).total_seconds() / 86400)
        except (TypeError, ValueError):
            lifetime = None
    return SeenCookie(
        name=name,
        domain=attrs.get("domain", urlsplit(url).hostname or ""),
        path=attrs.get("path", "/"),
        lifetime_days=lifetime,
        secure="secure" in flags,
        httponly="httponly" in flags,
        samesite=attrs.get("samesite"),
        first_url=url,
    )


def scan_urls(config: PortalConfig, paths: list[str], languages: list[str]) -> list[str]:
    """Each path in each content language, asked by the portal's ``?flg=`` code for it."""
    return [
        with_language(config.resolve(path), config.flg_code(lang))
        for path in paths
        for lang in languages or [""]
    ]


def assess(registry: Registry, seen: list[SeenCookie], *, require_secure: bool) -> list[Finding]:
    findings: list[Finding] = []
    for cookie in seen:
        entry = registry.find_match(cookie.name)
        if entry is None:
            findings.append(
                Finding(
                    "undeclared",
                    cookie.name,
                    f"set by {cookie.first_url}, not in the registry",
                    url=cookie.first_url,
                )
            )
        if (
            entry is not None
            and entry.lifetime_days is not None
            and cookie.lifetime_days is not None
            and cookie.lifetime_days > entry.lifetime_days + _LIFETIME_SLACK_DAYS
        ):
            findings.append(
                Finding(
                    "lifetime",
                    cookie.name,
                    f"lives {cookie.lifetime_days:.0f} days, the registry says "
                    f"{entry.lifetime_days}",
                )
            )
        elif (
            cookie.lifetime_days is not None
            and cookie.lifetime_days > MAX_LIFETIME_DAYS + _LIFETIME_SLACK_DAYS
        ):
            findings.append(
                Finding(
                    "lifetime",
                    cookie.name,
                    f"lives {cookie.lifetime_days:.0f} days, over the CNIL's 13 months",
                )
            )
        problems = []
        if require_secure and not cookie.secure:
            problems.append("sent over HTTPS without Secure")
        if _AUTH_COOKIE.search(cookie.name) and not cookie.httponly:
            problems.append("a session cookie without HttpOnly")
        if problems:
            findings.append(Finding("insecure", cookie.name, "; ".join(problems)))
    names = {c.name for c in seen}
    for entry in registry.cookies:
        if not any(entry.matches(n) for n in names):
            findings.append(
                Finding(
                    "not_seen",
                    entry.name,
                    "declared but never set during the scan (it may need a login or a consent)",
                )
            )
    return findings


def needs_consent(entry: Cookie | None) -> bool:
    """Whether a cookie may only be set after the visitor said yes.

    Exempt: ``necessary`` cookies, and audience measurement marked
    ``consent_exempt`` that meets the CNIL's conditions (first-party
    statistics living 13 months at most). An undeclared cookie is never exempt.
    """
    if entry is None:
        return True
    if entry.category == "necessary":
        return False
    return not (
        entry.consent_exempt
        and entry.category == "statistics"
        and not entry.third_party
        and entry.lifetime_days is not None
        and entry.lifetime_days <= MAX_LIFETIME_DAYS
    )


def _third_party(host: str, portal_host: str, allowed: tuple[str, ...]) -> bool:
    if host == portal_host or host.endswith("." + portal_host):
        return False
    return not any(host == ok or host.endswith("." + ok) for ok in allowed)


def assess_consent(
    registry: Registry, states: list[StateSeen], config: PortalConfig
) -> list[Finding]:
    """Cookies and hosts a visitor meets without having said yes."""
    findings: list[Finding] = []
    portal_host = urlsplit(config.base_url).hostname or ""
    for seen in states:
        label = STATE_LABELS[seen.state]
        if seen.state == "accept":
            if seen.banner is None:
                findings.append(
                    Finding(
                        "no_banner",
                        "",
                        "no consent banner found to accept: set [consent] accept/refuse "
                        "selectors in portal.toml",
                        seen.state,
                    )
                )
            continue
        if seen.state == "refuse" and seen.banner is None:
            findings.append(
                Finding(
                    "no_banner",
                    "",
                    "no consent banner found to refuse: 'refuse all' could not be tested",
                    seen.state,
                )
            )
            continue
        kind = "before_consent" if seen.state == "none" else "after_refusal"
        when = "before any consent" if seen.state == "none" else "after the visitor refused"
        for cookie in seen.cookies:
            if needs_consent(registry.find_match(cookie.name)):
                findings.append(
                    Finding(
                        kind,
                        cookie.name,
                        f"set {when} (state '{label}') on {cookie.first_url}",
                        seen.state,
                        cookie.first_url,
                    )
                )
        for host, url in sorted(seen.third_parties.items()):
            if _third_party(host, portal_host, config.third_party_ok):
                findings.append(
                    Finding(
                        "third_party",
                        host,
                        f"third-party host contacted {when} (state '{label}') from {url}",
                        seen.state,
                        url,
                    )
                )
    return findings


def scan(
    config: PortalConfig,
    registry: Registry,
    *,
    paths: list[str] | None = None,
    languages: list[str] | None = None,
    transport: Transport | None = None,
    require_secure: bool | None = None,
) -> ScanResult:
    """Visit the configured pages in one cookie jar and report what was set."""
    langs = list(languages or config.scan_languages or config.languages)
    urls = scan_urls(config, list(paths or config.scan_targets), langs)
    client = transport or Transport(config.http)
    result = ScanResult(urls)
    by_name: dict[str, SeenCookie] = {}
    for url in urls:
        resp = client.request("GET", url)
        for header in resp.set_cookies:
            cookie = parse_set_cookie(header, url)
            if cookie is not None and cookie.name not in by_name:
                by_name[cookie.name] = cookie
    result.cookies = list(by_name.values())
    # Plain HTTP requests are a visitor who has not answered the banner yet.
    result.states = [StateSeen("none", list(result.cookies))]
    if require_secure is None:
        require_secure = config.expects_secure_cookies
    result.findings = assess(registry, result.cookies, require_secure=require_secure)
    result.findings += assess_consent(registry, result.states, config)
    result.evidence = _evidence("HTTP requests (no JavaScript)")
    return result


def _evidence(method: str, browser: str = "") -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        tool = version("ods-charter")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        tool = "unknown"
    out = {"observed_at": datetime.now(UTC).isoformat(timespec="seconds"), "tool": tool}
    out["method"] = method
    if browser:
        out["browser"] = browser
    return out


def _seen(c: BrowserCookie, now: float) -> SeenCookie:
    lifetime = None if c.expires < 0 else max(0.0, (c.expires - now) / 86400)
    return SeenCookie(c.name, c.domain, c.path, lifetime, c.secure, c.httponly, c.samesite, c.url)


def _has(seen: StateSeen, name: str) -> bool:
    return any(c.name == name for c in seen.cookies)


def scan_with_browser(
    config: PortalConfig,
    registry: Registry,
    result: ScanResult,
    *,
    har_path: Path | None = None,
) -> ScanResult:
    """Visit again in headless Chromium, once per consent state: no interaction,
    refuse all, accept all; cookies set by JavaScript and hosts contacted count too."""
    from ods_charter.browser import browse
    from ods_charter.consent import banners_for

    now = datetime.now(UTC).timestamp()
    run = browse(result.urls, banners_for(config), har_path=har_path)
    http_cookies = {c.name: c for c in result.cookies}
    result.states = []
    for visit in run.visits:
        cookies = [_seen(c, now) for c in visit.cookies]
        names = {c.name for c in cookies}
        # Set-Cookie headers reach a browser in every state.
        cookies += [c for n, c in http_cookies.items() if n not in names]
        result.states.append(
            StateSeen(
                visit.state,
                cookies,
                visit.local_storage,
                visit.session_storage,
                visit.hosts,
                visit.banner,
            )
        )
    union: dict[str, SeenCookie] = {}
    for seen in result.states:
        for cookie in seen.cookies:
            union.setdefault(cookie.name, cookie)
    result.cookies = list(union.values())
    result.local_storage = sorted({k for s in result.states for k in s.local_storage})
    secure = config.expects_secure_cookies
    result.findings = assess(registry, result.cookies, require_secure=secure)
    for finding in result.findings:
        if finding.kind == "undeclared":
            states = [STATE_LABELS[s.state] for s in result.states if _has(s, finding.cookie)]
            finding.message += f" (seen in: {', '.join(states)})"
    result.findings += assess_consent(registry, result.states, config)
    method = "headless Chromium, one fresh context per consent state"
    result.evidence = _evidence(method, run.browser_version)
    return result
