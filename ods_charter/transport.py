"""HTTP with timeouts, bounded retries, a size cap and clear errors."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from ods_charter import __version__
from ods_charter.config import HttpSettings
from ods_charter.errors import FetchError
from ods_charter.secrets import redact

USER_AGENT = f"ods-charter/{__version__}"
RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    set_cookies: list[str]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


QUOTA_WAIT = 60.0  # a 429 asking for a longer wait than this is a quota, not a hiccup


def is_quota(headers: Mapping[str, str]) -> bool:
    """A used-up quota (ODS quotas are daily), not a short 429: never retried."""
    if headers.get("X-RateLimit-Remaining", "").strip() != "0":
        return False
    wait = retry_after(headers.get("Retry-After"))
    return wait is None or wait > QUOTA_WAIT


def retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _describe(exc: requests.RequestException, url: str) -> str:
    text = str(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"{url}: timed out while connecting"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"{url}: timed out waiting for the answer"
    if "NameResolution" in text or "Name or service not known" in text or "getaddrinfo" in text:
        return f"{url}: cannot resolve the host name (DNS failure or no network)"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in text:
        return f"{url}: the connection was cut before the whole answer arrived"
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "RemoteDisconnected" in text or "Connection aborted" in text:
            return f"{url}: the server closed the connection without answering"
        return f"{url}: cannot connect ({type(exc).__name__})"
    return f"{url}: {type(exc).__name__}"


class Transport:
    """A requests session that behaves well towards a portal and its user."""

    def __init__(self, settings: HttpSettings | None = None, sleep: Any = time.sleep) -> None:
        self.settings = settings or HttpSettings()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self._sleep = sleep

    def close(self) -> None:
        self.session.close()

    def wait(self, attempt: int, delay_asked: float | None) -> None:
        """Sleep before a retry: the server's Retry-After (capped), else backoff."""
        s = self.settings
        if delay_asked is not None:
            delay = min(delay_asked, s.max_retry_after)
        else:
            delay = s.backoff * (2**attempt) * (1 + random.random() / 4)
        self._sleep(delay)

    def _read(self, resp: requests.Response, url: str) -> bytes:
        cap = self.settings.max_bytes
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(
                f"{url}: the answer is {int(declared):,} bytes, over the cap of {cap:,}"
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_content(65536):
            size += len(chunk)
            if size > cap:
                raise FetchError(f"{url}: the answer is over the size cap of {cap:,} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        retry: bool = True,
        allow_redirects: bool = True,
    ) -> Response:
        """One request, retried on connection errors, 429 and 5xx when ``retry``.

        ``retry`` must be False for a write that may not be repeated blindly.
        """
        s = self.settings
        attempts = s.retries + 1 if retry else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                with self.session.request(
                    method,
                    url,
                    headers=dict(headers or {}),
                    json=json,
                    timeout=(s.connect_timeout, s.read_timeout),
                    stream=True,
                    allow_redirects=allow_redirects,
                ) as resp:
                    if (
                        resp.status_code in RETRY_STATUSES
                        and not last
                        and not (resp.status_code == 429 and is_quota(resp.headers))
                    ):
                        self.wait(attempt, retry_after(resp.headers.get("Retry-After")))
                        continue
                    body = self._read(resp, url)
                    cookies = resp.raw.headers.getlist("Set-Cookie") if resp.raw else []
                    for hop in resp.history:
                        cookies = hop.raw.headers.getlist("Set-Cookie") + cookies
                    return Response(resp.status_code, resp.headers, body, resp.url, cookies)
            except requests.RequestException as exc:
                if last:
                    raise FetchError(redact(_describe(exc, url))) from None
                self.wait(attempt, None)
        raise AssertionError("unreachable: the last attempt returns or raises")
