"""Public pages: page content inside the portal's chrome."""

from __future__ import annotations

import html
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ods_charter.simulator.state import data_text

_TEMPLATE: str | None = None


def chrome(content: str, *, title: str, language: str, css: str = "", portal: str) -> str:
    global _TEMPLATE
    if _TEMPLATE is None:
        _TEMPLATE = data_text("portal_page.html")
    head, _, tail = _TEMPLATE.partition("@@CONTENT@@")

    def fill(part: str) -> str:
        return (
            part.replace("@@LANG@@", html.escape(language))
            .replace("@@TITLE@@", html.escape(title))
            .replace("@@PORTAL@@", html.escape(portal))
            .replace("@@CSS@@", css)
        )

    # The content goes in untouched: it is the portal admin's HTML.
    return fill(head) + content + fill(tail)


def not_found(portal: str, language: str) -> str:
    body = (
        '<div class="ods-error-page"><h1>Page introuvable</h1>'
        "<p>La page demandée n'existe pas ou n'est plus disponible.</p></div>"
    )
    return chrome(body, title="Page introuvable", language=language, portal=portal)


def home(portal: str, language: str) -> str:
    body = (
        '<div class="ods-home"><h1>Bienvenue sur le portail open data du STAR</h1>'
        '<ods-catalog-context context="catalog"><div ods-results="items">'
        "{{ items.length }} jeux de données</div></ods-catalog-context></div>"
    )
    return chrome(body, title="Accueil", language=language, portal=portal)


def rendered_by_script(content: str) -> str:
    """The content as a page kit that builds it in the browser serves it: an empty
    container and a script; the served HTML holds no markup of the content."""
    literal = (
        json.dumps(content, ensure_ascii=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    return (
        '<div class="ods-code-editor-page" id="ods-page-content"></div>\n'
        '<script type="text/javascript">document.getElementById("ods-page-content")'
        f".innerHTML = {literal};</script>\n"
    )


@dataclass
class Platform:
    """Behaviours of real portals the public contract does not show, each switchable.

    ``publish_step``: a PUT saves a draft that the API returns, and only
    ``POST …/publish/`` makes it live. ``cache_delay``: public pages show
    content as it was that many seconds ago. ``js_rendered``: public pages
    carry the content in a script. ``flg_codes``: the portal's ``?flg=`` code
    per content language (``{"en": "en-gb"}``). ``quota_exhausted``: every
    Automation API call answers the daily-quota 429. ``throttled``: the next N
    calls meet a short rate limit (429, no calls left, ``Retry-After: 1``).
    """

    publish_step: bool = False
    cache_delay: float = 0.0
    js_rendered: bool = False
    flg_codes: dict[str, str] = field(default_factory=dict)
    quota_exhausted: bool = False
    throttled: int = 0
    automation_api: bool = True  # False: the portal's plan has no Automation API (404)
    quota_limit: int = 10_000
    # slug -> [(time made live, page)], oldest first; kept only while a switch needs it
    _live: dict[str, list[tuple[float, dict[str, Any]]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    SWITCHES = (
        "publish_step",
        "cache_delay",
        "js_rendered",
        "flg_codes",
        "quota_exhausted",
        "throttled",
        "automation_api",
    )

    def arm(self, spec: dict[str, Any]) -> None:
        unknown = set(spec) - set(self.SWITCHES)
        if unknown:
            raise ValueError(f"unknown platform switch(es): {', '.join(sorted(unknown))}")
        with self._lock:
            for key, value in spec.items():
                setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.SWITCHES}

    @property
    def _tracking(self) -> bool:
        return self.publish_step or self.cache_delay > 0

    def saved(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        """An API update: live at once, unless a publish step is needed."""
        if not self._tracking:
            return
        with self._lock:
            versions = self._live.setdefault(before["slug"], [(0.0, before)])
            if not self.publish_step:
                versions.append((time.monotonic(), after))

    def published(self, page: dict[str, Any]) -> None:
        with self._lock:
            self._live.setdefault(page["slug"], []).append((time.monotonic(), page))

    def live(self, page: dict[str, Any]) -> dict[str, Any]:
        """What visitors see of ``page`` (the API copy) now."""
        with self._lock:
            versions = self._live.get(page["slug"])
            if not versions:
                return page
            ready = [p for t, p in versions if t <= time.monotonic() - self.cache_delay]
            return ready[-1] if ready else versions[0][1]

    def languages(self, portal_languages: list[str]) -> dict[str, str]:
        """``?flg=`` code -> content language, for the languages the portal knows."""
        return {self.flg_codes.get(lang, lang): lang for lang in portal_languages}

    def take_throttle(self) -> bool:
        with self._lock:
            if self.throttled > 0:
                self.throttled -= 1
                return True
            return False

    def quota_answer(self) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The body and headers of a used-up daily quota, as ODS sends them."""
        tomorrow = datetime.now(UTC).date() + timedelta(days=1)
        reset = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC)
        body = {
            "error_code": "too_many_requests",
            "message": "Too many requests on the domain. Please contact the domain administrator.",
            "errorcode": 10002,
            "reset_time": reset.isoformat().replace("+00:00", "Z"),
            "limit_time_unit": "day",
            "call_limit": self.quota_limit,
        }
        headers = [
            ("X-RateLimit-Limit", str(self.quota_limit)),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", str(int(reset.timestamp()))),
        ]
        return body, headers


# The consent banner of the chrome, made to work, and a Matomo-like analytics tag
# that waits for consent. ``fault`` makes it misbehave on purpose:
# "before_consent" measures at once, "ignore_refusal" measures after a refusal.
_CONSENT_SCRIPT = """<script>
(function () {
    var TRACKER = @@TRACKER@@, FAULT = @@FAULT@@;
    var banner = document.querySelector(".ods-cookie-consent");
    function choice() {
        var m = document.cookie.match(/(?:^|; )cookies_preferences=([^;]*)/);
        return m ? m[1] : null;
    }
    function measure() {
        if (!TRACKER) { return; }
        if (document.cookie.indexOf("_pk_id.1.5f3a=") < 0) {
            document.cookie = "_pk_id.1.5f3a=" + Math.random().toString(16).slice(2)
                + "; max-age=33955200; path=/; SameSite=Lax";
        }
        document.cookie = "_pk_ses.1.5f3a=1; max-age=1800; path=/; SameSite=Lax";
        new Image().src = TRACKER + "/matomo.php?idsite=1&rec=1&url="
            + encodeURIComponent(location.href);
    }
    function choose(value) {
        document.cookie = "cookies_preferences=" + value
            + "; max-age=15552000; path=/; SameSite=Lax";
        if (banner) { banner.style.display = "none"; }
        if (value === "accepted" || FAULT === "ignore_refusal") { measure(); }
    }
    var given = choice();
    if (given && banner) { banner.style.display = "none"; }
    if (given === "accepted" || FAULT === "before_consent"
            || (given === "refused" && FAULT === "ignore_refusal")) { measure(); }
    if (banner) {
        banner.querySelector('[ng-click*="accept"]').addEventListener("click", function () {
            choose("accepted");
        });
        banner.querySelector('[ng-click*="refuse"]').addEventListener("click", function () {
            choose("refused");
        });
    }
})();
</script>
"""


def with_consent(page: str, tracker: str | None, fault: str | None) -> str:
    """``page`` with its consent banner wired up (and analytics when a tracker is set)."""
    script = _CONSENT_SCRIPT.replace("@@TRACKER@@", json.dumps(tracker)).replace(
        "@@FAULT@@", json.dumps(fault)
    )
    head, found, tail = page.rpartition("</body>")
    return head + script + found + tail if found else page
