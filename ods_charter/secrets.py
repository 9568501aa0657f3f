"""Keeping the API key out of every output.

The key is read once (environment or ``.env``), registered here, and every
message that leaves the program passes through :func:`redact`.
"""

from __future__ import annotations

import os
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlsplit

from ods_charter.errors import ConfigError

MASK = "********"
_SECRETS: set[str] = set()


def register(secret: str) -> str:
    if len(secret) >= 4:  # masking a 1-3 character "key" would mangle ordinary text
        _SECRETS.add(secret)
    return secret


def redact(text: str) -> str:
    for secret in tuple(_SECRETS):  # fleet threads may register while another redacts
        text = text.replace(secret, MASK)
    return text


def load_dotenv_file(path: Path = Path(".env")) -> None:
    """Load ``.env`` from the working directory, never overriding the environment."""
    if path.is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


def api_key(required: bool = True, env: str = "ODS_API_KEY") -> str | None:
    """The key from ``$env`` (environment, or ``.env`` already loaded)."""
    key = os.environ.get(env, "").strip()
    if not key:
        if required:
            raise ConfigError(
                f"no API key: set {env} in the environment or in a .env file "
                "(the key needs the permissions to browse and edit pages)"
            )
        return None
    return register(key)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure(url: str) -> None:
    """A key travels only over HTTPS, loopback HTTP being the one exception."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname or "")):
        return
    raise ConfigError(
        f"refusing to send the API key to {parts.scheme}://{parts.netloc}: "
        "keys travel only over HTTPS (plain HTTP is allowed to loopback only)"
    )
