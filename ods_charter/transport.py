"""HTTP with timeouts, an overall deadline, bounded retries, a size cap and clear errors.

One TLS context per CA bundle and process (loading a bundle costs tens of
milliseconds of CPU), one pool manager per portal so connections are kept alive,
and nothing taken from the environment but the CA bundle: no proxy, no ``.netrc``
(either could send the ``Authorization`` header somewhere else).

It is built on urllib3 directly, not on requests: a portal of a fleet costs a few
milliseconds of CPU, and requests' session layer (settings merged per request,
a cookie jar filled from every answer, hooks) took a fifth of them for nothing
this tool uses; redirects are followed here, each hop's URL read as strictly as
the first.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json as _json
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
from urllib.parse import urljoin

import urllib3.connection
from urllib3 import BaseHTTPResponse, PoolManager, ProxyManager, Timeout
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util.url import parse_url

from ods_charter import __version__
from ods_charter.config import HttpSettings
from ods_charter.errors import ConfigError, FetchError
from ods_charter.events import RequestEvent, emit
from ods_charter.secrets import redact, require_secure
from ods_charter.urls import DEFAULT_PORTS, Origin, checked_origin

USER_AGENT = f"ods-charter/{__version__}"
RETRY_STATUSES = {429, 500, 502, 503, 504}
REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 10
_DRAIN_MAX = 65536  # the largest redirect body read to keep its connection
# Sent with every request. Only the encodings urllib3 decodes without extra packages;
# the size cap counts the decoded bytes.
_HEADERS = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
# Every connection verified (the context says against what); failures raised as they are.
_POOL_KW: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED", "retries": False}


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


def _describe(exc: HTTPError, url: str) -> str:
    # urllib3 raises ProxyError for a failure on the way to the proxy itself.
    proxy = isinstance(exc, ProxyError)
    cause = exc.original_error if isinstance(exc, ProxyError) else exc
    text = f"{exc} {cause}"
    if isinstance(cause, SSLError | ssl.SSLError):
        if proxy:
            return (
                f"{url}: the proxy's TLS certificate could not be verified ([http] proxy); "
                "name its CA in [http] ca_bundle"
            )
        return (
            f"{url}: the TLS certificate could not be verified; if the portal uses a private "
            "CA, name its certificate in [http] ca_bundle (or REQUESTS_CA_BUNDLE)"
        )
    if isinstance(cause, NameResolutionError):
        return f"{url}: cannot resolve the host name (DNS failure or no network)"
    # urllib3's NewConnectionError is a ConnectTimeoutError too: a refusal is not a timeout.
    if isinstance(cause, NewConnectionError) or proxy:
        via = " through the proxy ([http] proxy)" if proxy else ""
        return f"{url}: cannot connect{via} ({type(cause).__name__})"
    if isinstance(exc, ConnectTimeoutError):
        return f"{url}: timed out while connecting"
    if isinstance(exc, ReadTimeoutError):
        return f"{url}: timed out waiting for the answer"
    if "IncompleteRead" in text or "Connection broken" in text:
        return f"{url}: the connection was cut before the whole answer arrived"
    if isinstance(exc, ProtocolError):
        if "RemoteDisconnected" in text or "Connection aborted" in text:
            return f"{url}: the server closed the connection without answering"
        return f"{url}: cannot connect ({type(cause).__name__})"
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
            context.sslsocket_class = _WatchedSSLSocket
            _CONTEXTS[bundle] = context
        return context


class _Watch:
    """One attempt's deadline and the socket it is using."""

    __slots__ = ("done", "expired", "sock")

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.done = self.expired = False

    def cut(self) -> None:
        if self.sock is not None:
            # The plain socket's shutdown (under TLS too): a read blocked in
            # another thread returns, in a TLS handshake as in an answer.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self.sock, socket.SHUT_RDWR)


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
            deadline = time.monotonic() + seconds
            # The thread sleeps until the earliest deadline: wake it only for an
            # earlier one (rare: attempts share one timeout), not on every request.
            earlier = not self._heap or deadline < self._heap[0][0]
            heapq.heappush(self._heap, (deadline, next(self._ids), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadline", daemon=True)
                self._thread.start()
            elif earlier:
                self._cond.notify()
        self.local.watch = watch
        return watch

    def disarm(self, watch: _Watch) -> None:
        self.local.watch = None
        with self._cond:
            watch.done = True
            # The watch waits in the heap until its deadline: it must not keep
            # the socket (and its TLS state) alive that long.
            watch.sock = None

    def note(self, sock: socket.socket | None) -> None:
        """``sock`` is what the current attempt of this thread now depends on."""
        watch: _Watch | None = getattr(self.local, "watch", None)
        if watch is not None and sock is not None:
            watch.sock = sock
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


class _Watched:
    """A connection whose socket the deadline can cut: from the moment it is
    made (a proxy's CONNECT comes after; the TLS handshake, see
    _WatchedSSLSocket), and when a kept-alive connection is used again."""

    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        _WATCHDOG.note(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _WATCHDOG.note(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedSSLSocket(ssl.SSLSocket):
    """A TLS socket the deadline can cut during its handshake: wrapping detaches
    the plain socket noted at connect time, so this one is noted instead."""

    def do_handshake(self, block: bool = False) -> None:
        _WATCHDOG.note(self)
        super().do_handshake(block)


class _HTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


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
    """HTTP that behaves well towards a portal and its user, on urllib3's pools.

    Keep one per portal for a whole run: its connections are reused.
    """

    def __init__(self, settings: HttpSettings | None = None, sleep: Any = time.sleep) -> None:
        self.settings = settings or HttpSettings()
        self._sleep = sleep
        self._timeout = Timeout(
            connect=self.settings.connect_timeout, read=self.settings.read_timeout
        )
        # Made at the first request that needs them: a plain-HTTP run loads no CA bundle.
        self._direct: PoolManager | None = None
        self._proxied: ProxyManager | None = None
        self._context: ssl.SSLContext | None = None

    def _manager(self, url: str) -> PoolManager:
        """The pools for ``url``: through the configured proxy for HTTPS only,
        since over HTTPS a proxy only relays encrypted bytes; over HTTP it would read them."""
        https = url.startswith("https:")
        if https and self._context is None:
            self._context = tls_context(ca_bundle(self.settings))
        context = self._context if https else None
        if https and self.settings.proxy:
            if self._proxied is None:
                self._proxied = ProxyManager(
                    self.settings.proxy, ssl_context=context, proxy_ssl_context=context, **_POOL_KW
                )
                self._proxied.pool_classes_by_scheme = _POOLS
            return self._proxied
        if self._direct is None:
            self._direct = PoolManager(**_POOL_KW)
            self._direct.pool_classes_by_scheme = _POOLS
        if context is not None:
            self._direct.connection_pool_kw["ssl_context"] = context
        return self._direct

    def close(self) -> None:
        for manager in (self._direct, self._proxied):
            if manager is not None:
                manager.clear()

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

    def _read(self, resp: BaseHTTPResponse, url: str, watch: _Watch) -> bytes:
        cap = self.settings.max_bytes
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(
                f"{url}: the answer is {int(declared):,} bytes, over the cap of {cap:,}"
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.stream(65536):
            size += len(chunk)
            if size > cap:
                raise FetchError(f"{url}: the answer is over the size cap of {cap:,} bytes")
            chunks.append(chunk)
        if watch.expired:  # the watchdog cut the answer short: a body may end early quietly
            raise ReadTimeoutError(None, url, "deadline")  # type: ignore[arg-type]
        return b"".join(chunks)

    def _open(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, follow: bool
    ) -> tuple[BaseHTTPResponse, str, list[str]]:
        """One answer, following redirects when ``follow``: the answer, its URL, and
        the cookies the hops before it set."""
        cookies: list[str] = []
        for _ in range(MAX_REDIRECTS + 1):
            resp = self._manager(url).urlopen(
                method,
                url,
                body=body,
                headers=headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
                timeout=self._timeout,
                preload_content=False,
            )
            location = resp.headers.get("Location")
            if not (follow and location and resp.status in REDIRECTS):
                return resp, url, cookies
            cookies += resp.headers.getlist("Set-Cookie")
            # A short body is read so the connection serves the next hop (often the
            # same host); a long or unsized one is not worth reading: close instead.
            length = resp.headers.get("Content-Length", "")
            if length.isdigit() and int(length) <= _DRAIN_MAX:
                resp.drain_conn()
            else:
                resp.close()
            resp.release_conn()
            try:
                target = urljoin(url, location)  # ValueError: "http://[::1" and the like
                connects_to(target)
            except (ConfigError, ValueError) as exc:
                raise FetchError(
                    f"{url}: redirected to {location!r}, which is refused: {exc}"
                ) from None
            url = target
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

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
        A request that carries credentials never follows a redirect; a GET
        without them follows up to MAX_REDIRECTS, each target read as strictly as ``url``.
        """
        connects_to(url)
        sent = {**_HEADERS, **(headers or {})}
        if any(name.lower() == "authorization" for name in sent):
            require_secure(url)
            allow_redirects = False
        body = None
        if json is not None:
            body = _json.dumps(json, allow_nan=False).encode("utf-8")
            sent.setdefault("Content-Type", "application/json")
        follow = allow_redirects and method in {"GET", "HEAD"}
        s = self.settings
        attempts = s.retries + 1 if retry else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            started = time.monotonic()
            event = RequestEvent("response", method, redact(url), attempt + 1, attempts)
            try:
                with _deadline(s.read_timeout) as watch:
                    resp, where, cookies = self._open(method, url, sent, body, follow)
                    read = False
                    try:
                        took = time.monotonic() - started
                        emit(replace(event, status=resp.status, seconds=took))
                        quota = resp.status == 429 and is_quota(resp.headers)
                        if resp.status not in RETRY_STATUSES or last or quota:
                            content = self._read(resp, url, watch)
                            read = True
                            cookies += resp.headers.getlist("Set-Cookie")
                            return Response(resp.status, resp.headers, content, where, cookies)
                        asked = retry_after(resp.headers.get("Retry-After"))
                        reason = f"HTTP {resp.status}"
                    finally:
                        if not read:  # unread bytes would spoil the connection for the next request
                            resp.close()
                        resp.release_conn()
            except HTTPError as exc:
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
