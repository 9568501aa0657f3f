"""What the portal really sets: visit pages like a browser, record every cookie,
and hold the registry to it."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from ods_charter.config import PortalConfig
from ods_charter.exitcode import ExitCode
from ods_charter.fetch import with_language
from ods_charter.registry import Registry
from ods_charter.transport import Transport

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
    kind: str  # undeclared | lifetime | insecure | not_seen
    cookie: str
    message: str


@dataclass
class ScanResult:
    urls: list[str]
    cookies: list[SeenCookie] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    local_storage: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        failed = any(f.kind != "not_seen" for f in self.findings)
        return ExitCode.CHANGES if failed else ExitCode.OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "findings" if self.exit_code else "ok",
            "urls": self.urls,
            "cookies": [asdict(c) for c in self.cookies],
            "findings": [asdict(f) for f in self.findings],
            "local_storage": self.local_storage,
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
    return [
        with_language(config.resolve(path), lang) for path in paths for lang in languages or [""]
    ]


def assess(registry: Registry, seen: list[SeenCookie], *, require_secure: bool) -> list[Finding]:
    findings: list[Finding] = []
    for cookie in seen:
        entry = registry.find_match(cookie.name)
        if entry is None:
            findings.append(
                Finding(
                    "undeclared", cookie.name, f"set by {cookie.first_url}, not in the registry"
                )
            )
        elif (
            entry.lifetime_days is not None
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
    if require_secure is None:
        require_secure = config.expects_secure_cookies
    result.findings = assess(registry, result.cookies, require_secure=require_secure)
    return result


def scan_with_browser(config: PortalConfig, registry: Registry, result: ScanResult) -> ScanResult:
    """Add what a real browser sees (cookies set by JavaScript, localStorage)."""
    from ods_charter.browser import browse

    now = datetime.now(UTC).timestamp()
    cookies, storage = browse(result.urls)
    known = {c.name for c in result.cookies}
    for c in cookies:
        if c.name in known:
            continue
        lifetime = None if c.expires < 0 else max(0.0, (c.expires - now) / 86400)
        result.cookies.append(
            SeenCookie(c.name, c.domain, c.path, lifetime, c.secure, c.httponly, c.samesite, c.url)
        )
    result.local_storage = storage
    secure = config.expects_secure_cookies
    result.findings = assess(registry, result.cookies, require_secure=secure)
    return result
