"""Backups: the page as read, kept before every write, read back for rollback.

A backup's file name is built from the portal's host and the page slug, both
reduced to safe characters, so no slug can put a file outside the directory.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ods_charter.errors import ConfigError
from ods_charter.page import page_problem
from ods_charter.registry import atomic_write
from ods_charter.userfile import read_capped

BACKUP_FORMAT = 1
MAX_BACKUP_BYTES = 64_000_000  # a page is capped at 20 MB; the backup holds two copies
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_PART_MAX = 60


def file_part(text: str) -> str:
    """``text`` as a piece of a file name: safe characters only, bounded length.

    Anything changed or cut gets a short hash of the original, so two slugs
    that clean up alike still get different names.
    """
    cleaned = _UNSAFE.sub("_", text).strip("._") or "_"
    if cleaned == text and len(text) <= _PART_MAX:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{cleaned[:_PART_MAX]}~{digest}"


def host_of(portal: str) -> str:
    """The host (and port) of a portal's base URL, as compared between runs."""
    return urlsplit(portal).netloc.lower() or portal


def page_file_part(portal: str, slug: str) -> str:
    """``<host>_<port>-<slug>``, safe as a file name, for backups and locks."""
    return f"{file_part(host_of(portal).replace(':', '_'))}-{file_part(slug)}"


def private_dir(path: Path) -> Path:
    """Create ``path`` private (0700) if it is new; never change an existing one."""
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def write_backup(
    backup_dir: Path, *, portal: str, slug: str, reason: str, page: Any, sent: Any
) -> Path:
    """One private file (0600) per write: the page as read, and what will be sent."""
    now = datetime.now(UTC)
    name = f"{page_file_part(portal, slug)}-{now:%Y%m%dT%H%M%S%fZ}.json"
    path = private_dir(backup_dir) / name
    data = {
        "format": BACKUP_FORMAT,
        "portal": portal,
        "slug": slug,
        "saved_at": now.isoformat(),
        "reason": reason,
        "page": page,
        "sent": sent,
    }
    atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n", mode=0o600)
    return path


def read_backup(path: Path) -> dict[str, Any]:
    """A backup file, checked; ConfigError with one line when it is not one."""
    if not path.exists():
        raise ConfigError(f"{path}: backup file not found")
    if not path.is_file():
        raise ConfigError(f"{path}: not a regular file, so not a backup")
    try:
        data = json.loads(read_capped(path, MAX_BACKUP_BYTES).decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable backup ({exc})") from None
    what = f"{path}: not an ods-charter backup"
    if not isinstance(data, dict) or data.get("format") != BACKUP_FORMAT:
        raise ConfigError(f"{what} (expected format {BACKUP_FORMAT})")
    for key in ("portal", "slug"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ConfigError(f"{what} ({key}: expected a non-empty string)")
    problem = page_problem(data.get("page"))
    if problem:
        raise ConfigError(f"{what} (page: {problem})")
    return dict(data)
