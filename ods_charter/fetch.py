"""Fetching the public charter page."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ods_charter.encoding import decode_html
from ods_charter.errors import FetchError
from ods_charter.transport import Transport

_LOGIN_MARKERS = ("/login", "/account/login", "/signin")


@dataclass
class FetchedPage:
    url: str
    html: bytes  # as served: `fetch` saves these bytes
    content_type: str | None = None

    @property
    def text(self) -> str:
        """The page decoded as declared (BOM, then Content-Type, then meta charset)."""
        return decode_html(self.html, self.content_type)


def with_language(url: str, language: str | None) -> str:
    """The URL with ``?flg=<language>``, Opendatasoft's way of choosing a language."""
    if not language:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "flg"]
    query.append(("flg", language))
    return urlunsplit(parts._replace(query=urlencode(query)))


def fetch_page(transport: Transport, url: str, language: str | None = None) -> FetchedPage:
    """GET a public page and check that it is an HTML page we may read."""
    target = with_language(url, language)
    resp = transport.request("GET", target)
    final = urlsplit(resp.url)
    if any(marker in final.path for marker in _LOGIN_MARKERS):
        raise FetchError(
            f"{target}: redirected to a login page ({final.path}); the page is restricted "
            "or needs an account"
        )
    if resp.status == 404:
        raise FetchError(f"{target}: page not found (404); check [page] slug or url")
    if resp.status >= 400:
        raise FetchError(f"{target}: the portal answered {resp.status}")
    if resp.content_type not in {"text/html", "application/xhtml+xml"}:
        raise FetchError(
            f"{target}: expected an HTML page, got {resp.content_type or 'no content type'}"
        )
    return FetchedPage(resp.url, resp.body, resp.headers.get("Content-Type"))
