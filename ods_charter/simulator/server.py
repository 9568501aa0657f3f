"""The simulator's HTTP server: public pages, Automation API, admin area."""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import json
import re
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from ods_charter.errors import ConfigError
from ods_charter.simulator import pages
from ods_charter.simulator.faults import Faults
from ods_charter.simulator.state import StateStore

API = "/api/automation/v1.0/code_editor_pages/"
ADMIN = "/__simulator__/"
MAX_BODY = 2_000_000
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_WRITABLE = {
    "title",
    "description",
    "template",
    "tags",
    "is_restricted",
    "is_archived",
    "content",
}
_READ_ONLY = {
    "slug",
    "has_subdomain_copies",
    "is_pushed_by_parent",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
}
# Called with every API exchange of every simulator in this process (method,
# path, query and headers with the key masked, body, status, answer): a test
# session uses it to hold every exchange to the official contract.
exchange_observers: list[Callable[[dict[str, Any]], None]] = []
# What the corrupt_put fault does to each field it may alter after a PUT.
_CORRUPT: dict[str, Callable[[dict[str, Any]], None]] = {
    "html": lambda p: p["content"]["html"].update(
        {k: v + "<!-- stored differently -->" for k, v in p["content"]["html"].items()}
    ),
    "css": lambda p: p["content"].update(css={}),
    "title": lambda p: p.update(title={}),
    "description": lambda p: p.update(description=""),
    "template": lambda p: p.update(template="other.html"),
    "tags": lambda p: p.update(tags=[]),
    "is_restricted": lambda p: p.update(is_restricted=not p["is_restricted"]),
}
CSRF_MAX_AGE = 31_449_600  # Django's CSRF_COOKIE_AGE: one year in seconds
LANGUAGE_MAX_AGE = 31_536_000


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error_code": self.code, "message": self.message}
        if self.detail is not None:
            out["detail"] = self.detail
        if self.status >= 500:
            out["trace_id"] = str(uuid.uuid4())
        return out


def _strings_by_language(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def validate_update(body: Any) -> dict[str, Any]:
    """The writable fields of a PUT body; ApiError 400 with ``detail`` otherwise."""
    if not isinstance(body, dict):
        # The contract's only 400 for a PUT is a validation error with its detail.
        detail = {"non_field_errors": ["Expected a JSON object."]}
        raise ApiError(400, "validation_error", "Invalid input", detail)
    errors: dict[str, list[str]] = {}
    content = body.get("content")
    if content is None:
        errors["content"] = ["This field is required."]
    elif not isinstance(content, dict) or set(content) - {"html", "css"}:
        errors["content"] = ["Expected an object with 'html' and 'css'."]
    else:
        for kind in ("html", "css"):
            if kind in content and not _strings_by_language(content[kind]):
                errors[f"content.{kind}"] = ["Expected an object of strings per language."]
    checks: dict[str, Callable[[Any], bool]] = {
        "title": _strings_by_language,
        "description": lambda v: isinstance(v, str),
        "template": lambda v: isinstance(v, str) and bool(v),
        "tags": lambda v: isinstance(v, list) and all(isinstance(t, str) for t in v),
        "is_restricted": lambda v: isinstance(v, bool),
        "is_archived": lambda v: isinstance(v, bool),
    }
    for key, ok in checks.items():
        if key in body and not ok(body[key]):
            errors[key] = ["Invalid value."]
    unknown = set(body) - _WRITABLE - _READ_ONLY
    for key in unknown:
        errors[key] = ["Unknown field."]
    if errors:
        raise ApiError(400, "validation_error", "Invalid input", errors)
    return {k: v for k, v in body.items() if k in _WRITABLE}


class _Answered(Exception):
    """A complete answer decided before routing (a quota 429 with its headers)."""

    def __init__(self, status: int, data: Any, headers: list[tuple[str, str]]) -> None:
        super().__init__(status)
        self.status, self.data, self.headers = status, data, headers


class _Trickle:
    """Writes the first ``count`` bytes of an answer one at a time, ``delay`` apart."""

    def __init__(self, inner: Any, count: int, delay: float) -> None:
        self.inner, self.count, self.delay = inner, count, delay

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while self.count > 0 and view:
            time.sleep(self.delay)
            self.inner.write(view[:1])
            view, self.count = view[1:], self.count - 1
        if view:
            self.inner.write(view)
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@functools.lru_cache(maxsize=2)
def _gzip_bomb(page: bytes, size: int) -> bytes:
    """``page`` padded with spaces to ``size`` bytes, gzipped; kept, so that only
    the first answer costs the simulator the memory of the whole."""
    return gzip.compress(page + b" " * max(0, size - len(page)), compresslevel=9)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "nginx"
    sys_version = ""
    # One request's answer, kept for the exchange observers.
    _answer: tuple[int | None, str, bytes] = (None, "", b"")
    _faulty = False
    _recorded = False
    # Keep-alive as a real portal does; every answer carries its Content-Length.
    protocol_version = "HTTP/1.1"
    # As nginx's tcp_nodelay: without it the body waits behind the headers for
    # the client's delayed ACK, up to 40 ms per answer over TLS.
    disable_nagle_algorithm = True
    timeout = 30  # an idle kept-alive connection is closed after this many seconds
    _body: bytes | None = None

    # -- plumbing -------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is in the admin area."""

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()  # here, not in the accepting thread

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self._answer = (status, content_type, body)
        self._record_exchange()  # before the client can read the answer and move on
        faults = self.server.faults
        public = not self.path.startswith(ADMIN)
        truncate = public and faults.take("truncate")
        if public and faults.take("trickle"):
            self.wfile = _Trickle(self.wfile, faults.trickle_bytes, faults.trickle_delay)  # type: ignore[assignment]
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers or []:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body[: len(body) // 2] if truncate else body)
        if truncate:
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    def _json(self, status: int, data: Any, headers: list[tuple[str, str]] | None = None) -> None:
        try:
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate a test stored: send it as JSON escapes
            body = json.dumps(data).encode("ascii")
        self._send(status, body, "application/json", headers)

    def _drop(self) -> None:
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _read_body(self) -> bytes:
        if self._body is not None:
            return self._body
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit():
            raise ApiError(400, "bad_request", "Invalid Content-Length.")
        if int(length) > MAX_BODY:
            raise ApiError(413, "payload_too_large", f"The body is over {MAX_BODY} bytes.")
        self._body = self.rfile.read(int(length))
        return self._body

    def _masked(self) -> dict[str, Any]:
        """The request as logged: the key masked in the query and the headers."""
        parts = urlsplit(self.path)
        query = [(k, "********" if k == "apikey" else v) for k, v in parse_qsl(parts.query)]
        # The scheme stays visible: a test can tell an apikey from Basic credentials.
        headers = {
            k: (v.split(" ", 1)[0] + " ********" if k.lower() == "authorization" else v)
            for k, v in self.headers.items()
        }
        return {
            "method": self.command,
            "path": parts.path,
            "query": urlencode(query),
            "headers": headers,
        }

    def _log(self) -> None:
        presented = self._presented_key()
        entry = {
            **self._masked(),
            # Which key came, without keeping it: tests check where each key went.
            "key_sha256": hashlib.sha256(presented.encode()).hexdigest() if presented else None,
            "time": time.time(),
        }
        with self.server.log_lock:
            self.server.request_log.append(entry)

    def _record_exchange(self) -> None:
        if self._recorded or not exchange_observers or not self.path.startswith(API[:-1]):
            return
        self._recorded = True
        status, content_type, answer = self._answer
        exchange = {
            **self._masked(),
            "body": self._body or b"",
            "status": status,  # None: the connection was dropped, no answer
            "faulty": self._faulty,  # an answer a fault made up on purpose
            "content_type": content_type,
            "answer": answer,
            "base_url": f"http://{self.headers.get('Host', 'localhost')}",
        }
        for observe in list(exchange_observers):
            observe(exchange)

    # -- dispatch -------------------------------------------------------
    def _dispatch(self) -> None:
        self._body = None
        try:
            self._route()
        finally:
            # An unread request body would be read as the next request on this
            # connection: as nginx does, read and drop it after answering, so the
            # connection stays usable (closing it would race the client's next
            # request); a body too large or malformed closes the connection.
            length = self.headers.get("Content-Length", "0")
            if self._body is None and length not in {"", "0"} and not self.close_connection:
                if length.isdigit() and int(length) <= MAX_BODY:
                    with contextlib.suppress(OSError):
                        self.rfile.read(int(length))
                else:
                    self.close_connection = True
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                self.close_connection = True

    def _route(self) -> None:
        path = urlsplit(self.path).path
        # A kept-alive connection reuses the handler: start each request afresh.
        self._answer, self._faulty, self._recorded = (None, "", b""), False, False
        try:
            if path.startswith(ADMIN):
                self._admin(path[len(ADMIN) :])
                return
            self._log()
            faults = self.server.faults
            if faults.latency:
                time.sleep(faults.latency)
            if faults.take("drop"):
                self._drop()
                return
            if faults.take("redirect"):
                self._faulty = True  # a redirect is no answer the contract lists
                target = (faults.redirect_to or "https://moved.invalid").rstrip("/") + self.path
                headers = [("Location", target)]
                if faults.redirect_cookie:
                    headers.append(("Set-Cookie", faults.redirect_cookie))
                self._send(faults.redirect_status, b"", "text/html", headers)
                return
            if (faults.fail_methods is None or self.command in faults.fail_methods) and faults.take(
                "fail_count"
            ):
                retry = [("Retry-After", faults.retry_after)] if faults.retry_after else []
                status = faults.fail_status
                self._json(
                    status,
                    ApiError(status, "service_unavailable", "Temporarily unavailable.").body(),
                    retry,
                )
                return
            if path.startswith("/api/automation/"):
                self._platform_gate()
            if path.startswith(API) or path.rstrip("/") + "/" == API:
                self._api(path[len(API) :] if path.startswith(API) else "")
            else:
                self._public(path)
        except ApiError as exc:
            self._json(exc.status, exc.body())
        except _Answered as answer:
            self._json(answer.status, answer.data, answer.headers)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            # The client hung up (or a deadline cut it) mid-answer.
            with self.server.log_lock:
                self.server.hung_up += 1
        except Exception:  # the simulator must answer JSON, never a stack trace
            err = ApiError(500, "internal_error", "A server error occurred.")
            self._json(500, err.body())
        finally:
            self._record_exchange()  # a dropped connection: no answer was sent

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _dispatch

    # -- Automation API -------------------------------------------------
    def _presented_key(self) -> str:
        """The key a request carries: the header, else the (discouraged) query form."""
        header = self.headers.get("Authorization", "")
        key = header[len("apikey ") :].strip() if header.lower().startswith("apikey ") else ""
        return key or parse_qs(urlsplit(self.path).query).get("apikey", [""])[0]

    def _auth(self, write: bool) -> str:
        key = self._presented_key()
        keys = self.server.keys
        if not key or key not in keys:
            raise ApiError(401, "authentication_failed", "Authentication credentials are invalid.")
        user, can_edit = keys[key]
        if write and not can_edit:
            raise ApiError(403, "permission_denied", "You may not edit pages.")
        return user

    def _platform_gate(self) -> None:
        """A portal without the Automation API in its plan, or past its daily quota."""
        platform = self.server.platform
        if not platform.automation_api:
            raise ApiError(404, "not_found", "Not found.")
        if platform.quota_exhausted:
            body, headers = platform.quota_answer()
            raise _Answered(429, body, headers)
        if platform.take_throttle():
            body, headers = platform.quota_answer()
            raise _Answered(429, body, [*headers, ("Retry-After", "1")])

    def _publish(self, slug: str) -> None:
        """``POST …/<slug>/publish/``: only where the platform has a publish step."""
        if self.command != "POST":
            raise ApiError(405, "method_not_allowed", f"{self.command} is not allowed here.")
        if not self.server.platform.publish_step:
            raise ApiError(404, "not_found", "Not found.")
        self._auth(write=True)
        page = self.server.store.page(slug)
        if page is None:
            raise ApiError(404, "not_found", "Not found.")
        self.server.platform.published(page)
        self._json(200, {"detail": "ok"})

    def _api(self, rest: str) -> None:
        store = self.server.store
        if rest.strip("/") == "":  # the API takes paths with or without the trailing slash
            if self.command != "GET":
                raise ApiError(405, "method_not_allowed", f"{self.command} is not allowed here.")
            self._auth(write=False)
            self._list()
            return
        slug, _, action = rest.strip("/").partition("/")
        if not _SLUG.match(slug) or action not in {"", "publish"} or "//" in rest:
            raise ApiError(404, "not_found", "Not found.")
        if action == "publish":
            self._publish(slug)
        elif self.command == "GET":
            self._auth(write=False)
            page = store.page(slug)
            if page is None:
                raise ApiError(404, "not_found", "Not found.")
            self._json(200, page)
            self._after_read(slug)
        elif self.command == "PUT":
            user = self._auth(write=True)
            if store.page(slug) is None:
                raise ApiError(404, "not_found", "Not found.")
            ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
            if ctype != "application/json":
                raise ApiError(
                    415, "unsupported_media_type", "Expected Content-Type: application/json."
                )
            raw = self._read_body()
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                detail = {"non_field_errors": ["The body is not valid JSON."]}
                raise ApiError(400, "validation_error", "Invalid input", detail) from None
            changes = validate_update(body)
            before = store.page(slug)
            assert before is not None
            if before["is_archived"]:
                raise ApiError(
                    400,
                    "validation_error",
                    "An archived page can't be edited.",
                    {"is_archived": ["Unarchive the page first."]},
                )
            if before["is_pushed_by_parent"]:
                raise ApiError(
                    400,
                    "validation_error",
                    "This page is pushed by a parent domain and can't be edited here.",
                    {"is_pushed_by_parent": ["Edit the page on the parent domain."]},
                )
            faults = self.server.faults
            during = faults.edit_during_put
            if during and during.get("slug") == slug:
                faults.pop("edit_during_put")
            else:
                during = None
            if during and during.get("when") == "before":
                self._edit_as_someone_else(slug, during)
            updated = store.update_page(slug, changes, user, replace=not self.server.lenient_put)
            self.server.platform.saved(before, updated)
            corrupt = faults.pop("corrupt_put")
            if corrupt:
                stored = store.page(slug)
                assert stored is not None
                _CORRUPT[corrupt](stored)
                store.put_raw_page(stored)
            if during and during.get("when") != "before":
                self._edit_as_someone_else(slug, during)
            time.sleep(faults.pop("put_answer_delay") or 0)
            answer = faults.pop("put_answer")
            if answer:
                self._faulty = True  # not the simulator's own answer: off the contract
                raw = answer.get("body", "")
                self._send(answer.get("status", 502), raw.encode("utf-8"), "application/json")
                return
            if self.server.faults.take("lose_put_response"):
                self._drop()
                return
            self._json(200, updated)
        else:
            raise ApiError(405, "method_not_allowed", f"{self.command} is not allowed here.")

    def _list(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        try:
            limit = int(query.get("limit", ["20"])[0])
            offset = int(query.get("offset", ["0"])[0])
        except ValueError:
            raise ApiError(400, "bad_request", "limit and offset must be integers.") from None
        if not 0 <= limit <= 1000 or offset < 0:
            raise ApiError(
                400, "validation_error", "Invalid input", {"limit": ["Between 0 and 1000."]}
            )
        items = list(self.server.store.snapshot()["pages"].values())
        scheme = "https" if self.server.tls else "http"
        origin = self.server.faults.next_origin or f"{scheme}://{self.headers.get('Host')}"
        base = f"{origin}{API}"

        def link(at: int) -> str:
            return f"{base}?{urlencode({'limit': limit, 'offset': at})}"

        self._json(
            200,
            {
                # An integer, as the official SDK's corrected schema has it.
                "total_count": len(items),
                "next": link(offset + limit) if limit and offset + limit < len(items) else None,
                "previous": link(max(0, offset - limit)) if offset > 0 else None,
                "results": items[offset : offset + limit],
            },
        )

    def _after_read(self, slug: str) -> None:
        faults = self.server.faults
        with faults.lock:
            edit = faults.concurrent_edit
            if not edit or edit.get("slug") != slug:
                return
            edit["after_reads"] = edit.get("after_reads", 1) - 1
            if edit["after_reads"] > 0:
                return
            faults.concurrent_edit = None
        self._edit_as_someone_else(slug, edit)

    def _edit_as_someone_else(self, slug: str, edit: dict[str, Any]) -> None:
        """Another editor saves the page in the back office: every field kept."""
        page = self.server.store.page(slug)
        assert page is not None
        note = edit.get("html", "<p>Modifié par quelqu'un d'autre.</p>")
        body = {k: page[k] for k in _WRITABLE}
        body["content"]["html"] = {k: v + note for k, v in page["content"]["html"].items()}
        self.server.store.update_page(slug, body, "someone.else")

    # -- public pages ---------------------------------------------------
    def _cookies(self, language: str | None) -> list[tuple[str, str]]:
        secure = "; Secure" if self.server.secure_cookies else ""
        token = secrets.token_hex(16)
        out = [
            (
                "Set-Cookie",
                f"csrftoken={token}; Max-Age={CSRF_MAX_AGE}; Path=/; SameSite=Lax{secure}",
            )
        ]
        if language:
            out.append(
                (
                    "Set-Cookie",
                    f"django_language={language}; Max-Age={LANGUAGE_MAX_AGE}; Path=/; "
                    f"SameSite=Lax{secure}",
                )
            )
        out += [("Set-Cookie", raw) for raw in self.server.extra_cookies]
        return out

    def _public(self, path: str) -> None:
        store = self.server.store
        portal = store.portal()  # copies only what this page needs: pages are served often
        platform = self.server.platform
        query = parse_qs(urlsplit(self.path).query)
        asked = query.get("flg", [""])[0]
        codes = platform.languages(portal["languages"])  # ?flg= code -> content language
        known = asked in codes
        default = portal["default_language"]
        language: str = asked if known else platform.flg_codes.get(default, default)
        content_lang = codes.get(language, default)
        cookies = self._cookies(asked if known else None)
        html_type = "text/html; charset=utf-8"

        def page(body: str, status: int = 200) -> None:
            faults = self.server.faults
            body = pages.with_consent(body, self.server.tracker_url, faults.consent)
            data = body.encode("utf-8")
            if faults.take("gzip_bomb"):
                compressed = _gzip_bomb(data, faults.gzip_bomb_bytes)
                self._send(status, compressed, html_type, [*cookies, ("Content-Encoding", "gzip")])
                return
            self._send(status, data, html_type, cookies)

        match = re.fullmatch(r"/pages?/([^/]+)/?", path)
        legal = re.fullmatch(r"/terms/([a-z-]+)/?", path)
        if path in {"/", ""} or path.startswith("/explore"):
            page(pages.home(portal["name"], language))
        elif path.startswith("/api/explore/"):
            self._json(200, {"total_count": 142, "results": []}, cookies)
        elif path.rstrip("/") == "/login":
            page(
                pages.chrome(
                    "<form><h1>Connexion</h1></form>",
                    title="Connexion",
                    language=language,
                    portal=portal["name"],
                )
            )
        elif match:
            found = store.page(match.group(1))
            if found is None or found["is_archived"]:
                page(pages.not_found(portal["name"], language), 404)
            elif found["is_restricted"]:
                self._send(302, b"", html_type, [("Location", f"/login/?next={path}")])
            else:
                shown = platform.live(found)
                # A language the page lacks shows blank, never another language.
                content = shown["content"]["html"].get(content_lang, "")
                if platform.js_rendered:
                    content = pages.rendered_by_script(content)
                page(
                    pages.chrome(
                        content,
                        title=shown["title"].get(content_lang, found["slug"]),
                        language=language,
                        css=shown["content"]["css"].get(content_lang, ""),
                        portal=portal["name"],
                    )
                )
        elif legal and (text := store.legal(legal.group(1))) is not None:
            lang = content_lang if content_lang in text["html"] else next(iter(text["html"]))
            page(
                pages.chrome(
                    text["html"][lang],
                    title=text["title"].get(lang, ""),
                    language=lang,
                    portal=portal["name"],
                )
            )
        else:
            page(pages.not_found(portal["name"], language), 404)

    # -- admin area -----------------------------------------------------
    def _admin(self, rest: str) -> None:
        server = self.server
        route = (self.command, rest.rstrip("/"))
        if route == ("GET", "health"):
            self._json(200, {"status": "ok"})
        elif route == ("GET", "requests"):
            with server.log_lock:
                self._json(200, list(server.request_log))
        elif route == ("DELETE", "requests"):
            with server.log_lock:
                server.request_log.clear()
            self._json(200, {"detail": "ok"})
        elif route == ("GET", "faults"):
            self._json(200, server.faults.as_dict())
        elif route == ("POST", "faults"):
            try:
                server.faults.arm(json.loads(self._read_body() or b"{}"))
            except (ValueError, TypeError) as exc:
                raise ApiError(400, "bad_request", str(exc)) from None
            self._json(200, server.faults.as_dict())
        elif route == ("DELETE", "faults"):
            server.faults.clear()
            self._json(200, {"detail": "ok"})
        elif route[1] == "platform" and self.command in {"GET", "POST"}:
            platform = server.platform
            if self.command == "POST":
                try:
                    spec = json.loads(self._read_body() or b"{}")
                    platform.arm(spec if isinstance(spec, dict) else {"": spec})
                except (ValueError, TypeError) as exc:
                    raise ApiError(400, "bad_request", str(exc)) from None
            self._json(200, platform.as_dict())
        elif route == ("GET", "state"):
            self._json(200, server.store.snapshot())
        elif route == ("POST", "cookies"):
            try:
                cookies = json.loads(self._read_body() or b"[]")
            except ValueError:
                raise ApiError(400, "bad_request", "Expected a JSON list of strings.") from None
            if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
                raise ApiError(400, "bad_request", "Expected a JSON list of Set-Cookie values.")
            server.extra_cookies = cookies
            self._json(200, {"detail": "ok"})
        elif self.command == "PUT" and rest.startswith("pages/"):
            try:
                page = json.loads(self._read_body())
            except ValueError:
                raise ApiError(400, "bad_request", "The body is not valid JSON.") from None
            if not isinstance(page, dict) or not _SLUG.match(str(page.get("slug", ""))):
                raise ApiError(400, "bad_request", "Expected a page object with a valid slug.")
            server.store.put_raw_page(page)
            self._json(200, page)
        else:
            raise ApiError(404, "not_found", "Not found.")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    tls: ssl.SSLContext | None = None
    connections = 0  # accepted since start: keep-alive shows as fewer than requests
    hung_up = 0  # answers the client stopped reading before their end
    open_sockets: set[socket.socket]

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        if self.tls is not None:  # the handshake happens in the connection's own thread
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self.log_lock:
            self.connections += 1
            self.open_sockets.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        with self.log_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients that hang up or fail the TLS handshake (tests do both)."""
        import sys

        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.log_lock:
            open_now = list(self.open_sockets)
        for sock in open_now:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    store: StateStore
    faults: Faults
    platform: pages.Platform
    keys: dict[str, tuple[str, bool]]
    request_log: list[dict[str, Any]]
    log_lock: threading.Lock
    extra_cookies: list[str]
    secure_cookies: bool
    tracker_url: str | None
    lenient_put: bool


class _TrackerHandler(BaseHTTPRequestHandler):
    """A third-party analytics host: logs each hit, answers 204."""

    server: _TrackerServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: hits are in ``Simulator.tracker_hits``."""

    def do_GET(self) -> None:
        with self.server.log_lock:
            self.server.hits.append(self.path)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _TrackerServer(ThreadingHTTPServer):
    daemon_threads = True
    hits: list[str]
    log_lock: threading.Lock


def _start_tracker() -> tuple[_TrackerServer, str]:
    """A listener on another loopback address, so that its host differs from the portal's."""
    try:
        server = _TrackerServer(("127.0.0.2", 0), _TrackerHandler)
        host = "127.0.0.2"
    except OSError:  # systems where only 127.0.0.1 answers: another name for it
        server = _TrackerServer(("127.0.0.1", 0), _TrackerHandler)
        host = "localhost"
    server.hits, server.log_lock = [], threading.Lock()
    serve = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    serve.daemon = True
    serve.start()
    return server, f"http://{host}:{server.server_address[1]}"


class Simulator:
    """A portal on loopback. Use as a context manager, or start()/stop().

    ``tls=True`` serves HTTPS with a certificate made at start-up by a throwaway
    CA (for ``tls_names``, by default the host, 127.0.0.1, ::1 and localhost);
    clients trust it through :attr:`ca_bundle`, a PEM file (``[http] ca_bundle``),
    never by turning verification off. Connections are kept alive (HTTP/1.1);
    :attr:`connections` counts those accepted.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: Path | None = None,
        api_key: str | None = "demo-key",
        read_only_key: str | None = None,
        state: dict[str, Any] | None = None,
        secure_cookies: bool = False,
        analytics: bool = False,
        lenient_put: bool = False,
        tls: bool = False,
        tls_names: tuple[str, ...] | None = None,
    ) -> None:
        """``lenient_put`` keeps the writable fields a PUT leaves out, where the
        official contract (the default) resets them: for trying out old clients."""
        if not 0 <= port <= 65535:
            raise ConfigError(f"simulator port {port}: expected 0 (any free port) to 65535")
        self._tmp = None if state_dir else tempfile.mkdtemp(prefix="ods-sim-")
        self.state_dir = Path(state_dir or self._tmp or ".")
        self.host, self.port = host, port
        keys: dict[str, tuple[str, bool]] = {}
        if api_key:
            keys[api_key] = ("charter.bot", True)
        if read_only_key:
            keys[read_only_key] = ("read.only", False)
        self._keys = keys
        self._initial = state
        self._secure = secure_cookies
        self._analytics = analytics  # pages carry a Matomo-like tag and a tracker listens
        self._tracker: _TrackerServer | None = None
        self._lenient_put = lenient_put
        self._tls = tls
        self._tls_names = tls_names or tuple(dict.fromkeys((host, "127.0.0.1", "::1", "localhost")))
        self.ca_bundle: Path | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def server(self) -> _Server:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return self._server

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        name = f"[{name}]" if ":" in name else name
        return f"{'https' if self._tls else 'http'}://{name}:{port}"

    @property
    def connections(self) -> int:
        with self.server.log_lock:
            return self.server.connections

    @property
    def hung_up(self) -> int:
        """Answers the client hung up on before their last byte (a deadline's cut)."""
        with self.server.log_lock:
            return self.server.hung_up

    @property
    def store(self) -> StateStore:
        return self.server.store

    @property
    def faults(self) -> Faults:
        return self.server.faults

    @property
    def platform(self) -> pages.Platform:
        """Switchable real-portal behaviours: publish step, cache, JS pages, quota..."""
        return self.server.platform

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self.server.log_lock:
            return list(self.server.request_log)

    def set_cookies(self, cookies: list[str]) -> None:
        self.server.extra_cookies = list(cookies)

    def start(self) -> Simulator:
        server = _Server((self.host, self.port), _Handler)
        server.open_sockets = set()
        if self._tls:
            server.tls = self._tls_context()
        server.store = StateStore(self.state_dir / "state.json", self._initial)
        server.faults = Faults()
        server.platform = pages.Platform()
        server.keys = self._keys
        server.request_log = []
        server.log_lock = threading.Lock()
        server.extra_cookies = []
        server.secure_cookies = self._secure
        server.tracker_url = None
        if self._analytics:
            self._tracker, server.tracker_url = _start_tracker()
        server.lenient_put = self._lenient_put
        self._server = server
        # A short poll interval makes stop() quick: tests start one per test.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    @property
    def tracker_hits(self) -> list[str]:
        """Paths the third-party tracker was asked for."""
        if self._tracker is None:
            return []
        with self._tracker.log_lock:
            return list(self._tracker.hits)

    def _tls_context(self) -> ssl.SSLContext:
        try:
            import trustme
        except ImportError:
            raise ConfigError(
                "the simulator's TLS needs the trustme package: pip install 'ods-charter[test]'"
            ) from None
        authority = trustme.CA(organization_name="ods-charter simulator")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert(*self._tls_names).configure_cert(context)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.ca_bundle = self.state_dir / "simulator-ca.pem"
        authority.cert_pem.write_to_path(str(self.ca_bundle))
        return context

    def stop(self) -> None:
        if self._tracker is not None:
            self._tracker.shutdown()
            self._tracker.server_close()
            self._tracker = None
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            self._server = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Run in the foreground until interrupted (the CLI command)."""
        if self._server is None:
            self.start()
        try:
            assert self._thread is not None
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()
