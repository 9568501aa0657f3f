"""Consent banners: the three states a scan visits and how to operate each banner.

A portal's own selectors come from ``[consent]`` in ``portal.toml``; after them
come Opendatasoft's banner and the common consent platforms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ods_charter.config import PortalConfig

if TYPE_CHECKING:
    from playwright.sync_api import Page

STATES = ("none", "refuse", "accept")
STATE_LABELS = {"none": "no interaction", "refuse": "refuse all", "accept": "accept all"}
_WAIT_MS = 3000  # consent platforms inject their banner after the page's load event


@dataclass(frozen=True)
class Banner:
    platform: str
    accept: str  # CSS selector of the "accept all" button
    refuse: str  # ... and of the "refuse all" button

    def button(self, action: str) -> str:
        return self.accept if action == "accept" else self.refuse


DEFAULT_BANNERS = (
    Banner(
        "Opendatasoft",
        ".ods-cookie-consent [ng-click*='accept']",
        ".ods-cookie-consent [ng-click*='refuse']",
    ),
    Banner(
        "Cookiebot",
        "#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll",
        "#CybotCookiebotDialogBodyButtonDecline",
    ),
    Banner("CookieYes", ".cky-btn-accept", ".cky-btn-reject"),
    Banner("Didomi", "#didomi-notice-agree-button", "#didomi-notice-disagree-button"),
    Banner("Axeptio", "#axeptio_btn_acceptAll", "#axeptio_btn_dismiss"),
    Banner("tarteaucitron", "#tarteaucitronPersonalize2", "#tarteaucitronAllDenied2"),
    Banner("OneTrust", "#onetrust-accept-btn-handler", "#onetrust-reject-all-handler"),
)


def banners_for(config: PortalConfig) -> list[Banner]:
    """The portal's own selectors first (when set), then the known platforms."""
    own = []
    if config.consent_accept or config.consent_refuse:
        own.append(
            Banner(
                "portal.toml [consent]",
                config.consent_accept or DEFAULT_BANNERS[0].accept,
                config.consent_refuse or DEFAULT_BANNERS[0].refuse,
            )
        )
    return own + list(DEFAULT_BANNERS)


def operate(page: Page, action: str, banners: list[Banner]) -> str | None:
    """Click ``action`` (accept | refuse) on the first banner shown; its platform, or None."""
    from playwright.sync_api import Error as PlaywrightError

    union = ", ".join(b.button(action) for b in banners)
    try:
        page.wait_for_selector(union, state="visible", timeout=_WAIT_MS)
    except PlaywrightError:
        return None
    for banner in banners:
        button = page.locator(banner.button(action)).first
        if button.count() and button.is_visible():
            button.click(timeout=_WAIT_MS)
            return banner.platform
    return None  # pragma: no cover - the button vanished between the wait and the click
