"""One strict reading of a URL: where the key may go is where the request connects.

Two URL parsers that disagree about a URL's host are how a key leaks
(``http://evil:80\\@127.0.0.1`` is ``127.0.0.1`` to urllib.parse and ``evil`` to
browsers and urllib3). So a URL is accepted only when it has one obvious
reading: http(s), no user name or password, an ASCII host name, a plain dotted
IPv4 address or a bracketed IPv6 address, an optional decimal port, and no
backslash, space or control character anywhere. Everything the program sends
goes through :func:`checked_origin` first (configuration, API client, transport).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from urllib.parse import urlsplit

from ods_charter.errors import ConfigError

DEFAULT_PORTS = {"http": 80, "https": 443}
_AUTHORITY = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")
_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$"
)
_HOST_PORT = re.compile(
    r"^(?P<host>[^:\[\]]+|\[(?P<v6>[0-9A-Fa-f:.]+)\])(?::(?P<port>[0-9]{1,5}))?$"
)
_NUMBERISH = re.compile(r"(?:^|\.)(?:[0-9]+|0x[0-9a-f]*)$")  # WHATWG: such a host is an IPv4


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str  # lower case; an IPv6 address without brackets
    port: int

    @property
    def is_loopback(self) -> bool:
        return is_loopback(self.host)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = DEFAULT_PORTS[self.scheme] == self.port
        return f"{self.scheme}://{host}" + ("" if default else f":{self.port}")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")  # space, control characters, backslash


def _refuse(url: str, what: str, why: str) -> ConfigError:
    return ConfigError(f"{what} {url!r}: {why}")


def checked_origin(url: str, what: str = "URL") -> Origin:
    """The scheme, host and port ``url`` connects to; ConfigError when it is not
    an http(s) URL with one unambiguous reading."""
    if _UNSAFE.search(url):
        raise _refuse(url, what, "spaces, control characters and backslashes are not allowed")
    match = _AUTHORITY.match(url)
    scheme = url.split(":", 1)[0].lower()
    if scheme not in DEFAULT_PORTS or match is None:
        raise _refuse(url, what, "expected an http(s) URL such as https://example.org")
    authority = match.group(1)
    if "@" in authority:
        raise _refuse(url, what, "a user name or password in the URL is not allowed")
    if not authority.isascii():
        raise _refuse(url, what, "write the host name in its ASCII (xn--) form")
    parts = _HOST_PORT.match(authority)
    if parts is None:
        raise _refuse(url, what, "expected host, host:port or [IPv6]:port after //")
    host = (parts.group("v6") or parts.group("host")).lower()
    if parts.group("v6"):
        try:
            host = IPv6Address(host).compressed
        except ValueError:
            raise _refuse(url, what, "the bracketed IPv6 address is not valid") from None
    elif _NUMBERISH.search(host):
        try:
            IPv4Address(host)
        except ValueError:
            raise _refuse(url, what, "expected a dotted IPv4 address such as 192.0.2.1") from None
    elif not _NAME.match(host):
        raise _refuse(url, what, "the host name is not valid")
    port = int(parts.group("port") or DEFAULT_PORTS[scheme])
    if not 0 < port < 65536:
        raise _refuse(url, what, "the port must be between 1 and 65535")
    origin = Origin(scheme, host, port)
    # The standard library must read the same: URLs built from this one (a language
    # chosen, a redirect followed) are built with it.
    try:
        split = urlsplit(url)
        split_host = split.hostname or ""
        if ":" in split_host:
            split_host = IPv6Address(split_host).compressed
        same = (split_host, split.port or DEFAULT_PORTS[scheme]) == (host, port)
    except ValueError:
        same = False
    if not same:
        raise _refuse(url, what, "the URL can be read in more than one way")
    return origin
