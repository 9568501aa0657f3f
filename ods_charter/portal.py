"""A client for Opendatasoft's Automation API v1.0 (code editor pages)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from ods_charter.errors import PortalError
from ods_charter.page import page_problem
from ods_charter.secrets import redact, register, require_secure
from ods_charter.transport import Response, Transport, connects_to

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


def _error_text(resp: Response) -> tuple[str, str]:
    try:
        data = json.loads(resp.body)
    except ValueError:
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    message = str(data.get("message", ""))
    if data.get("detail"):
        message += f" {json.dumps(data['detail'], ensure_ascii=False)}"
    return str(data.get("error_code", "")), message


class AutomationClient:
    """Reads and updates code editor pages; the key only ever goes in a header."""

    def __init__(self, base_url: str, api_key: str, transport: Transport | None = None) -> None:
        require_secure(base_url)
        self.base_url = base_url.rstrip("/")
        self.origin = connects_to(self.base_url)
        self._auth = {"Authorization": f"apikey {register(api_key)}"}
        self.transport = transport or Transport()

    def _url(self, slug: str | None = None) -> str:
        if slug is None:
            return f"{self.base_url}{API_PATH}/code_editor_pages/"
        return f"{self.base_url}{API_PATH}/code_editor_pages/{quote(slug, safe='')}/"

    def _check(self, resp: Response, what: str) -> Any:
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
                "authentication failed (401): check ODS_API_KEY", 401, "authentication_failed"
            )
        if resp.status == 403:
            raise PortalError("this key may not edit pages (403)", 403, "permission_denied")
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
        page = self._check(resp, f"page {slug!r}")
        problem = page_problem(page)  # checked here, once: past this point it is trusted
        if problem:
            raise PortalError(
                f"page {slug!r} on {self.base_url}: the answer is not a valid code editor "
                f"page ({problem})"
            )
        return dict(page)

    def list_pages(self, page_size: int = 100) -> Iterator[dict[str, Any]]:
        url: str | None = f"{self._url()}?limit={page_size}&offset=0"
        while url:
            data = self._check(self.transport.request("GET", url, headers=self._auth), "pages")
            yield from data.get("results", [])
            url = data.get("next")
            if url and connects_to(url) != self.origin:
                raise PortalError(redact(f"pages: the next page link {url} leaves {self.origin}"))

    def put_page(self, slug: str, body: dict[str, Any]) -> Response:
        """One PUT, never retried here: the caller decides what is safe to repeat.

        Returns the raw response; FetchError when the answer never arrived.
        """
        return self.transport.request(
            "PUT", self._url(slug), headers=self._auth, json=body, retry=False
        )

    def check_put(self, resp: Response, slug: str) -> dict[str, Any]:
        page = self._check(resp, f"update of page {slug!r}")
        return page if isinstance(page, dict) else {}
