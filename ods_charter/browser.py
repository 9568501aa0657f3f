"""The ``scan --browser`` part: a headless Chromium records what JavaScript sets.

Optional: needs the ``browser`` extra (playwright) and the system's Chromium.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from ods_charter.errors import OdsCharterError

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
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


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


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browse(urls: list[str]) -> tuple[list[BrowserCookie], list[str]]:
    """Cookies (HTTP and JavaScript) and localStorage keys after visiting ``urls``."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise OdsCharterError(INSTALL_HINT) from None
    if executable is None:
        raise OdsCharterError(INSTALL_HINT)
    cookies: dict[str, BrowserCookie] = {}
    storage: set[str] = set()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context()
            page = context.new_page()
            for url in urls:
                page.goto(url, wait_until="load")
                storage.update(page.evaluate("Object.keys(window.localStorage)"))
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
            browser.close()
    return list(cookies.values()), sorted(storage)
