"""HTTP with timeouts, an overall deadline, bounded retries, a size cap and clear errors.

One TLS context per CA bundle and process (loading a bundle costs tens of
milliseconds of CPU), one session per portal so connections are kept alive, and
nothing taken from the environment but the CA bundle: no proxy, no ``.netrc``
(either could send the ``Authorization`` header somewhere else).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import random
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from ipaddress import ip_address
from typing import Any

import requests
import urllib3.connection
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.url import parse_url

from ods_charter import __version__
from ods_charter.config import HttpSettings
from ods_charter.errors import ConfigError, FetchError
from ods_charter.events import RequestEvent, emit
from ods_charter.secrets import redact, require_secure
from ods_charter.urls import DEFAULT_PORTS, Origin, checked_origin

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
    if isinstance(exc, requests.exceptions.SSLError):
        return (
            f"{url}: the TLS certificate could not be verified; if the portal uses a private "
            "CA, name its certificate in [http] ca_bundle (or REQUESTS_CA_BUNDLE)"
        )
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


_BUNDLE_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
_CONTEXTS: dict[str, ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()


def ca_bundle(settings: HttpSettings) -> str:
    """``[http] ca_bundle``, else the environment's bundle, else certifi's."""
    if settings.ca_bundle:
        return settings.ca_bundle
    for name in _BUNDLE_ENV:
        value = os.environ.get(name)
        if value:
            if not os.path.exists(value):
                raise ConfigError(f"{name}={value}: no such CA bundle file or directory")
            return value
    import certifi

    return str(certifi.where())


def tls_context(bundle: str) -> ssl.SSLContext:
    """One verifying context per CA bundle and process, shared by every connection."""
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(bundle)
        if context is None:
            where = {"capath": bundle} if os.path.isdir(bundle) else {"cafile": bundle}
            try:
                context = ssl.create_default_context(**where)  # type: ignore[arg-type]
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"{bundle}: not a readable PEM CA bundle ({exc})") from None
            _CONTEXTS[bundle] = context
        return context


class _Watch:
    """One attempt's deadline and the connection it is using."""

    __slots__ = ("connection", "done", "expired")

    def __init__(self) -> None:
        self.connection: urllib3.connection.HTTPConnection | None = None
        self.done = self.expired = False

    def cut(self) -> None:
        sock = self.connection.sock if self.connection is not None else None
        if sock is not None:
            # The plain socket's shutdown: a read blocked in another thread returns.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One thread for the process: cuts the connection of any attempt past its deadline.

    A socket timeout bounds each read, not the answer: a server sending one
    byte a second would hold a command for hours without this.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Fresh state; also in a forked child, which inherits no thread."""
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None
        self.local = threading.local()

    def arm(self, seconds: float) -> _Watch:
        watch = _Watch()
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._ids), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadline", daemon=True)
                self._thread.start()
            self._cond.notify()
        self.local.watch = watch
        return watch

    def disarm(self, watch: _Watch) -> None:
        self.local.watch = None
        with self._cond:
            watch.done = True
            # The watch waits in the heap until its deadline: it must not keep
            # the connection (and its TLS state) alive that long.
            watch.connection = None

    def note(self, connection: urllib3.connection.HTTPConnection) -> None:
        watch: _Watch | None = getattr(self.local, "watch", None)
        if watch is not None:
            watch.connection = connection
            if watch.expired:
                watch.cut()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    watch = heapq.heappop(self._heap)[2]
                    if not watch.done:
                        watch.expired = True
                        watch.cut()
                self._cond.wait(self._heap[0][0] - now if self._heap else None)


_WATCHDOG = _Watchdog()
os.register_at_fork(after_in_child=_WATCHDOG.reset)


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[_Watch]:
    watch = _WATCHDOG.arm(seconds)
    try:
        yield watch
    finally:
        _WATCHDOG.disarm(watch)


class _HTTPConnection(urllib3.connection.HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _WATCHDOG.note(self)
        super().request(*args, **kwargs)


class _HTTPSConnection(urllib3.connection.HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _WATCHDOG.note(self)
        super().request(*args, **kwargs)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _Adapter(HTTPAdapter):
    """Connections that answer to the deadline watchdog and share one TLS context,
    made at the first HTTPS request (a plain-HTTP run never loads a CA bundle)."""

    def __init__(self, settings: HttpSettings) -> None:
        self._settings = settings
        self._context: ssl.SSLContext | None = None
        super().__init__()

    def _tls(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = tls_context(ca_bundle(self._settings))
            self.poolmanager.connection_pool_kw["ssl_context"] = self._context
        return self._context

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if (request.url or "").startswith("https:"):
            self._tls()
        return super().send(request, *args, **kwargs)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        fresh = proxy not in self.proxy_manager
        manager = super().proxy_manager_for(proxy, ssl_context=self._tls(), **kwargs)
        if fresh:
            manager.pool_classes_by_scheme = _POOLS
        return manager

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # requests would name its bundle on each pool, and urllib3 then load it
        # again for every connection: the shared context already holds it.
        conn.cert_reqs = "CERT_REQUIRED"


def connects_to(url: str) -> Origin:
    """Where ``url`` connects, read by the project's parser and by urllib3 alike."""
    origin = checked_origin(url)
    parsed = parse_url(url)
    host = (parsed.host or "").strip("[]").lower()
    if ":" in host:
        host = ip_address(host).compressed
    scheme = parsed.scheme or ""
    if (scheme, host, parsed.port or DEFAULT_PORTS.get(scheme)) != (
        origin.scheme,
        origin.host,
        origin.port,
    ):
        raise ConfigError(f"URL {url!r}: the URL can be read in more than one way")
    return origin


class Transport:
    """A requests session that behaves well towards a portal and its user.

    Keep one per portal for a whole run: its connections are reused.
    """

    def __init__(self, settings: HttpSettings | None = None, sleep: Any = time.sleep) -> None:
        self.settings = settings or HttpSettings()
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy, .netrc or CA path from the environment
        adapter = _Adapter(self.settings)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.verify = True  # never off: a private CA goes in [http] ca_bundle
        # Over HTTPS a proxy only relays encrypted bytes; over HTTP it would read them.
        self.session.proxies = {"https": self.settings.proxy} if self.settings.proxy else {}
        self.session.headers["User-Agent"] = USER_AGENT
        self._sleep = sleep

    def close(self) -> None:
        self.session.close()

    def wait(
        self,
        attempt: int,
        delay_asked: float | None,
        event: RequestEvent | None = None,
        reason: str = "",
    ) -> None:
        """Sleep before a retry: the server's Retry-After (capped), else backoff."""
        s = self.settings
        if delay_asked is not None:
            delay = min(delay_asked, s.max_retry_after)
        else:
            delay = s.backoff * (2**attempt) * (1 + random.random() / 4)
        if event is not None:
            emit(replace(event, kind="retry", seconds=delay, reason=reason))
        self._sleep(delay)

    def _read(self, resp: requests.Response, url: str, watch: _Watch) -> bytes:
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
        if watch.expired:  # the watchdog cut the answer short: a body may end early quietly
            raise requests.exceptions.ReadTimeout("deadline")
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
        Each attempt, from connecting to the last byte, ends within ``read_timeout``.
        A request that carries credentials never follows a redirect.
        """
        connects_to(url)
        headers = dict(headers or {})
        if any(name.lower() == "authorization" for name in headers):
            require_secure(url)
            allow_redirects = False
        s = self.settings
        attempts = s.retries + 1 if retry else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            started = time.monotonic()
            event = RequestEvent("response", method, redact(url), attempt + 1, attempts)
            try:
                with (
                    _deadline(s.read_timeout) as watch,
                    self.session.request(
                        method,
                        url,
                        headers=headers,
                        json=json,
                        timeout=(s.connect_timeout, s.read_timeout),
                        stream=True,
                        allow_redirects=allow_redirects,
                    ) as resp,
                ):
                    took = time.monotonic() - started
                    emit(replace(event, status=resp.status_code, seconds=took))
                    quota = resp.status_code == 429 and is_quota(resp.headers)
                    if resp.status_code not in RETRY_STATUSES or last or quota:
                        body = self._read(resp, url, watch)
                        cookies = resp.raw.headers.getlist("Set-Cookie") if resp.raw else []
                        for hop in resp.history:
                            cookies = hop.raw.headers.getlist("Set-Cookie") + cookies
                        return Response(resp.status_code, resp.headers, body, resp.url, cookies)
                    asked = retry_after(resp.headers.get("Retry-After"))
                    reason = f"HTTP {resp.status_code}"
            except requests.RequestException as exc:
                reason = redact(_describe(exc, url)).removeprefix(f"{redact(url)}: ")
                took = time.monotonic() - started
                emit(replace(event, kind="failure", seconds=took, reason=reason))
                if last:
                    why = (
                        f"{url}: timed out waiting for the answer: none was complete within "
                        f"{s.read_timeout:g} s ([http] read_timeout, the deadline of one attempt)"
                        if watch.expired
                        else _describe(exc, url)
                    )
                    raise FetchError(redact(why)) from None
                asked = None
            self.wait(attempt, asked, event, reason)
        raise AssertionError("unreachable: the last attempt returns or raises")
