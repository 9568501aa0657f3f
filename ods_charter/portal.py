"""A client for Opendatasoft's Automation API v1.0 (code editor pages)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin

from ods_charter.errors import PortalError
from ods_charter.page import page_problem
from ods_charter.secrets import redact, register, require_secure
from ods_charter.transport import Response, Transport, connects_to, is_quota

if TYPE_CHECKING:
    from ods_charter.config import PortalConfig

API_PATH = "/api/automation/v1.0"
WRITABLE_FIELDS = (
    "title",
    "description",
    "template",
    "tags",
    "is_restricted",
    "is_archived",
    "content",
)
# What a key needs, in the back office's words (Roles & permissions).
PAGE_PERMISSIONS = "browse pages and edit pages"
SECURITY_PERMISSION = "manage the pages' security"


def _json_object(resp: Response) -> dict[str, Any]:
    try:
        data = json.loads(resp.body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def quota_message(resp: Response) -> str:
    """A used-up daily quota, with when it comes back (body ``reset_time`` or
    ``X-RateLimit-Reset``): retrying before then is pointless."""
    data = _json_object(resp)
    reset = data.get("reset_time") or resp.headers.get("X-RateLimit-Reset") or "unknown"
    limit = data.get("call_limit") or resp.headers.get("X-RateLimit-Limit")
    unit = data.get("limit_time_unit") or "day"
    per = f" ({limit} calls per {unit})" if limit else ""
    return (
        f"the portal's API quota is used up (429){per}; it resets at {reset}: "
        "stopped at once, try again after that time"
    )


def _error_text(resp: Response) -> tuple[str, str]:
    data = _json_object(resp)
    if not data:
        return "", ""
    message = str(data.get("message", ""))
    if data.get("detail"):
        message += f" {json.dumps(data['detail'], ensure_ascii=False)}"
    return str(data.get("error_code", "")), message


class AutomationClient:
    """Reads and updates code editor pages; the key only ever goes in a header."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        transport: Transport | None = None,
        *,
        key_env: str = "ODS_API_KEY",
    ) -> None:
        require_secure(base_url)
        self.base_url = base_url.rstrip("/")
        self.origin = connects_to(self.base_url)
        self._auth = {"Authorization": f"apikey {register(api_key)}"}
        self.transport = transport or Transport()
        self.key_env = key_env
        self._sent_restricted = False

    @classmethod
    def for_portal(cls, config: PortalConfig, *, fleet: bool = False) -> AutomationClient:
        """The client of one portal, with the key its config names (and only that)."""
        from ods_charter.config import DEFAULT_KEY_ENV

        key = config.api_key(fleet=fleet)
        env = config.api_key_env or DEFAULT_KEY_ENV
        return cls(config.base_url, key, Transport(config.http), key_env=env)

    def _url(self, slug: str | None = None, action: str = "") -> str:
        if slug is None:
            return f"{self.base_url}{API_PATH}/code_editor_pages/"
        tail = f"{action}/" if action else ""
        return f"{self.base_url}{API_PATH}/code_editor_pages/{quote(slug, safe='')}/{tail}"

    def _check(self, resp: Response, what: str, *, write: bool = False) -> Any:
        if 300 <= resp.status < 400:
            # Followed, a redirect would carry the key to wherever it points.
            target = resp.headers.get("Location", "(no Location header)")
            raise PortalError(
                redact(
                    f"{what}: the portal answered with a redirect ({resp.status}) to {target}: "
                    "set base_url to the portal's real address; the key was not sent there"
                ),
                resp.status,
            )
        if resp.status == 401:
            raise PortalError(
                f"authentication failed (401) on {self.base_url}: check {self.key_env}; "
                "a key works only on the portal (workspace) that issued it",
                401,
                "authentication_failed",
            )
        if resp.status == 403:
            needs = PAGE_PERMISSIONS
            if write and self._sent_restricted:
                needs += f", and to {SECURITY_PERMISSION} (the update sends is_restricted)"
            raise PortalError(
                f"{what}: this key may not {'edit' if write else 'browse'} pages (403) on "
                f"{self.base_url}: its user needs the permissions to {needs}",
                403,
                "permission_denied",
            )
        if resp.status == 429 and is_quota(resp.headers):
            raise PortalError(f"{what}: {quota_message(resp)}", 429, "too_many_requests")
        code, message = _error_text(resp)
        if resp.status == 404:
            raise PortalError(f"{what}: not found (404) on {self.base_url}", 404, code)
        if resp.status >= 400:
            raise PortalError(
                redact(f"{what}: the portal answered {resp.status} {code}: {message}".strip()),
                resp.status,
                code,
            )
        try:
            return json.loads(resp.body)
        except ValueError:
            raise PortalError(f"{what}: the portal's answer is not JSON", resp.status) from None

    def get_page(self, slug: str) -> dict[str, Any]:
        resp = self.transport.request("GET", self._url(slug), headers=self._auth)
        if resp.status == 404:
            raise self._not_found(slug)
        page = self._check(resp, f"page {slug!r}")
        problem = page_problem(page)  # checked here, once: past this point it is trusted
        if problem:
            raise PortalError(
                f"page {slug!r} on {self.base_url}: the answer is not a valid code editor "
                f"page ({problem})"
            )
        return dict(page)

    def _not_found(self, slug: str) -> PortalError:
        """Tell a portal without the Automation API from a wrong slug: probe the list."""
        try:
            listed = list(self.list_pages())
        except PortalError as exc:
            if exc.status != 404:
                raise
            return PortalError(
                f"the Automation API is not available on {self.base_url} (404 on "
                f"{self._url()}): check [portal] base_url, and that the portal's plan "
                "includes the Automation API",
                404,
                "not_found",
            )
        from ods_charter.pages import cookie_page_slugs

        likely = cookie_page_slugs(listed)
        hint = (
            f"pages that look like a cookie page: {', '.join(likely)}"
            if likely
            else f"none of its {len(listed)} pages looks like a cookie page (`ods-charter pages`)"
        )
        return PortalError(
            f"no code editor page with slug {slug!r} on {self.base_url} (404); {hint}. "
            "A Studio page or a built-in /terms/ page cannot be written through this API",
            404,
            "not_found",
        )

    def list_pages(self, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every page, following ``next`` only on the portal's own origin."""
        url: str | None = f"{self._url()}?limit={page_size}&offset=0"
        while url:
            data = self._check(self.transport.request("GET", url, headers=self._auth), "pages")
            if not isinstance(data, dict) or not isinstance(data.get("results", []), list):
                raise PortalError("pages: the answer is not a list of code editor pages")
            yield from (p for p in data.get("results", []) if isinstance(p, dict))
            link = data.get("next")
            url = urljoin(url, link) if isinstance(link, str) and link else None
            if url is not None and connects_to(url) != self.origin:
                raise PortalError(
                    redact(
                        f"pages: the next page link {url} is on another origin than "
                        f"{self.base_url}: not followed, the key stays on this portal"
                    )
                )

    def put_page(self, slug: str, body: dict[str, Any]) -> Response:
        """One PUT, never retried here: the caller decides what is safe to repeat.

        Returns the raw response; FetchError when the answer never arrived.
        """
        self._sent_restricted = "is_restricted" in body
        return self.transport.request(
            "PUT", self._url(slug), headers=self._auth, json=body, retry=False
        )

    def check_put(self, resp: Response, slug: str) -> dict[str, Any]:
        page = self._check(resp, f"update of page {slug!r}", write=True)
        return page if isinstance(page, dict) else {}

    def publish_page(self, slug: str) -> None:
        """The publish step of newer page kits: make the updated draft live.

        Not in the public contract; a portal that publishes on PUT answers 404.
        """
        resp = self.transport.request(
            "POST", self._url(slug, "publish"), headers=self._auth, retry=False
        )
        if resp.status == 404:
            raise PortalError(
                f"page {slug!r}: the portal has no publish step (404 on "
                f"{self._url(slug, 'publish')}); the update is saved: if the public page "
                'shows it, set [page] publish = "none"',
                404,
                "not_found",
            )
        self._check(resp, f"publish of page {slug!r}", write=True)
