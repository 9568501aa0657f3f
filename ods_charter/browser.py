"""The ``scan --browser`` part: a headless Chromium visits the portal in each
consent state and records what JavaScript and the network did.

Optional: needs the ``browser`` extra (playwright) and the system's Chromium.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ods_charter.consent import STATES, Banner, operate
from ods_charter.errors import FetchError, OdsCharterError

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

INSTALL_HINT = (
    "the browser scan needs Playwright and Chromium: "
    "pip install 'ods-charter[browser]' and apt-get install chromium"
)
# Without the background-networking flags Chromium keeps calling home, which a
# closed network (CI) refuses; as root it also needs --no-sandbox.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_SETTLE_MS = 500  # after a click on the banner, the tags it releases run
_IDLE_MS = 10_000
_BANNER_ATTEMPTS = 2  # pages on which to look for the banner before giving up


@dataclass
class BrowserCookie:
    name: str
    domain: str
    path: str
    expires: float  # seconds since the epoch, -1 for a session cookie
    secure: bool
    httponly: bool
    samesite: str | None
    url: str


@dataclass
class StateVisit:
    """What one fresh browser context met in one consent state."""

    state: str  # none | refuse | accept
    cookies: list[BrowserCookie] = field(default_factory=list)
    local_storage: list[str] = field(default_factory=list)
    session_storage: list[str] = field(default_factory=list)
    hosts: dict[str, str] = field(default_factory=dict)  # host contacted -> page URL then
    banner: str | None = None  # the platform whose button was clicked


@dataclass
class BrowserRun:
    visits: list[StateVisit]
    browser_version: str


def chromium_path() -> str | None:
    """``ODS_CHROMIUM`` (e.g. a CI image's Chrome), else Chromium on the PATH."""
    return (
        os.environ.get("ODS_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


def _storage_keys(page: Page, storage: str) -> list[str]:
    """Keys of a Web Storage once the page settled; a banner may reload the page."""
    from playwright.sync_api import Error as PlaywrightError

    for _ in range(2):
        with contextlib.suppress(PlaywrightError):  # a page that never idles still counts
            page.wait_for_load_state("networkidle", timeout=_IDLE_MS)
        try:
            keys: list[str] = page.evaluate(f"Object.keys(window.{storage})")
            return keys
        except PlaywrightError:  # navigated while reading: read the new page
            continue
    return []  # pragma: no cover - navigating twice in a row


def _visit(
    browser: Browser, state: str, urls: Sequence[str], banners: list[Banner], har: Path | None
) -> StateVisit:
    visit = StateVisit(state)
    context = browser.new_context(record_har_path=str(har) if har else None)
    current = [""]

    def on_request(request: Any) -> None:
        host = urlsplit(request.url).hostname
        if host:
            visit.hosts.setdefault(host, current[0] or request.url)

    context.on("request", on_request)
    cookies: dict[str, BrowserCookie] = {}
    local: set[str] = set()
    session: set[str] = set()
    attempts = 0

    try:
        page = context.new_page()
        for url in urls:
            current[0] = url
            page.goto(url, wait_until="load")
            if state != "none" and visit.banner is None and attempts < _BANNER_ATTEMPTS:
                attempts += 1
                visit.banner = operate(page, state, banners)
                if visit.banner:
                    page.wait_for_timeout(_SETTLE_MS)
            local.update(_storage_keys(page, "localStorage"))
            session.update(_storage_keys(page, "sessionStorage"))
            for c in context.cookies():
                cookies.setdefault(
                    c["name"],
                    BrowserCookie(
                        c["name"],
                        c["domain"],
                        c["path"],
                        c["expires"],
                        c["secure"],
                        c["httpOnly"],
                        c.get("sameSite"),
                        url,
                    ),
                )
    finally:
        context.close()  # writes the HAR file
    visit.cookies = list(cookies.values())
    visit.local_storage, visit.session_storage = sorted(local), sorted(session)
    return visit


def browse(
    urls: Sequence[str],
    banners: list[Banner],
    *,
    states: Sequence[str] = STATES,
    har_path: Path | None = None,
) -> BrowserRun:
    """Visit ``urls`` once per consent state, each time in a fresh context."""
    executable = chromium_path()
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise OdsCharterError(INSTALL_HINT) from None
    if executable is None:
        raise OdsCharterError(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="ods-har-") as tmp, sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        except PlaywrightError as exc:
            raise OdsCharterError(f"cannot start Chromium ({executable}): {_first(exc)}") from None
        try:
            hars = {s: Path(tmp) / f"{s}.har" for s in states} if har_path else {}
            visits = [_visit(browser, s, urls, banners, hars.get(s)) for s in states]
            version = browser.version
        except PlaywrightError as exc:  # e.g. the portal cannot be reached
            raise FetchError(f"browser scan: {_first(exc)}") from None
        finally:
            browser.close()
        if har_path:
            merge_hars(hars, har_path)
    return BrowserRun(visits, version)


def _first(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or ["unknown error"])[0]


def merge_hars(hars: dict[str, Path], target: Path) -> None:
    """One HAR file from one per state; each page's id and title say its state."""
    merged: dict[str, Any] | None = None
    for state, path in hars.items():
        log = json.loads(path.read_text(encoding="utf-8"))["log"]
        for page in log.get("pages", []):
            page["title"] = f"[{state}] {page.get('title', '')}"
        for item in log.get("pages", []) + log.get("entries", []):
            for key in ("id", "pageref"):
                if key in item:
                    item[key] = f"{state}:{item[key]}"
        if merged is None:
            merged = log
        else:
            merged["pages"] = merged.get("pages", []) + log.get("pages", [])
            merged["entries"] = merged.get("entries", []) + log.get("entries", [])
    from ods_charter.registry import atomic_write

    atomic_write(target, json.dumps({"log": merged}, ensure_ascii=False))
