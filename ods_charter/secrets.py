"""Keeping the API key out of every output.

The key is read once (environment or ``.env``), registered here, and every
message, stream and file that leaves the program passes through :func:`redact`:
``cli.main`` wraps stdout and stderr, ``registry.atomic_write`` masks the files
it writes (reports, backups, registries), the audit log masks its lines.
A hostile portal may echo the key back in any spelling a browser or a JSON
reader would still decode, so every such spelling is masked, in any case.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ods_charter.errors import ConfigError
from ods_charter.urls import checked_origin

MASK = "********"
KEY_ENV = "ODS_API_KEY"
_SECRETS: set[str] = set()
_LOCK = threading.Lock()
_PATTERNS: tuple[tuple[int, re.Pattern[str]], ...] = ()
_KEY_CHARS = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII: what an HTTP header carries as is
_NAMED = {"&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos"}


def _spellings(char: str) -> str:
    """A regex for one character of the key, in either case, as any encoding a
    reader would decode (the pattern ignores case, but not the case of a code)."""
    forms = [re.escape(char)]
    for code in sorted({ord(char.lower()), ord(char.upper())}):
        forms += [
            f"%{code:02x}",  # URL
            f"&#0*{code};?",  # HTML, decimal
            f"&#x0*{code:x};?",  # HTML, hexadecimal
            f"\\\\u00{code:02x}",  # JSON
            f"\\\\x{code:02x}",  # Python / JavaScript
        ]
    if char in _NAMED:
        forms.append(f"&{_NAMED[char]};")
    if char == " ":
        forms.append(r"\+")
    return "(?:" + "|".join(forms) + ")"


def _compile(secret: str) -> tuple[int, re.Pattern[str]]:
    return len(secret), re.compile("".join(map(_spellings, secret)), re.IGNORECASE)


@functools.cache
def _as_bytes(pattern: re.Pattern[str]) -> re.Pattern[bytes]:
    """The same pattern for bytes, made the first time bytes are masked: most runs
    never write raw bytes, and compiling costs milliseconds a key."""
    return re.compile(pattern.pattern.encode("ascii"), re.IGNORECASE)


def register(secret: str) -> str:
    global _PATTERNS
    if len(secret) >= 4 and secret.isascii():  # a 1-3 character "key" would mangle any text
        with _LOCK:
            if secret not in _SECRETS:
                _SECRETS.add(secret)
                # One pattern per key, compiled once: a fleet registers one key per
                # portal, and recompiling them all at each new key grows as n².
                # Longest first: a key that contains another key is masked whole.
                _PATTERNS = tuple(
                    sorted((*_PATTERNS, _compile(secret)), key=lambda p: p[0], reverse=True)
                )
    return secret


def redact(text: str) -> str:
    for _, pattern in _PATTERNS:  # one read: fleet threads may register meanwhile
        text = pattern.sub(MASK, text)
    return text


def redact_bytes(data: bytes) -> bytes:
    for _, pattern in _PATTERNS:
        data = _as_bytes(pattern).sub(MASK.encode(), data)
    return data


class _MaskedBinary:
    def __init__(self, inner: IO[bytes]) -> None:
        self._inner = inner

    def write(self, data: bytes) -> int:
        return self._inner.write(redact_bytes(bytes(data)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _MaskedText:
    """A text stream that masks the key in whatever is written to it."""

    def __init__(self, inner: IO[str]) -> None:
        self._inner = inner
        self.encoding = getattr(inner, "encoding", None) or "utf-8"
        self.errors = getattr(inner, "errors", None) or "strict"
        binary = getattr(inner, "buffer", None)
        if binary is not None:
            self.buffer = _MaskedBinary(binary)

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes with b"" to tell text from binary
            raise TypeError("write() argument must be str")
        return self._inner.write(redact(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def masked_output() -> Iterator[None]:
    """stdout and stderr mask the key for the duration (the CLI's whole run)."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _MaskedText(sys.stdout), _MaskedText(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def load_dotenv_file(path: Path = Path(".env")) -> None:
    """Load ``.env`` from the working directory, never overriding the environment."""
    if not path.is_file():
        return
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line}: not UTF-8 text; save the file as UTF-8") from None
    from io import StringIO

    from dotenv import load_dotenv

    load_dotenv(stream=StringIO(text), override=False)


def register_from_env(env: str = KEY_ENV) -> None:
    """Mask the key from the first line on, even in commands that never send it."""
    key = os.environ.get(env, "").strip()
    if key:
        register(key)


def api_key(required: bool = True, env: str = KEY_ENV) -> str | None:
    """The key from ``$env`` (environment, or ``.env`` already loaded)."""
    key = os.environ.get(env, "").strip()
    if not key:
        if required:
            raise ConfigError(
                f"no API key: set {env} in the environment or in a .env file "
                "(the key needs the permissions to browse and edit pages)"
            )
        return None
    register(key)
    if not _KEY_CHARS.match(key):
        # Never shown: a key with a stray character is still a key.
        raise ConfigError(
            f"{env}: the key holds a space, a line break or a character outside "
            "visible ASCII; copy it again from the portal's back office"
        )
    return key


def require_secure(url: str) -> None:
    """A key travels only over HTTPS, loopback HTTP being the one exception."""
    origin = checked_origin(url, "portal URL")
    if origin.scheme == "https" or origin.is_loopback:
        return
    raise ConfigError(
        f"refusing to send the API key to {origin}: "
        "keys travel only over HTTPS (plain HTTP is allowed to loopback only)"
    )
