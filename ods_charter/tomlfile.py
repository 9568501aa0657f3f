"""Reading TOML files with errors that name the file and the line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from ods_charter.errors import ConfigError
from ods_charter.userfile import read_capped


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Return the parsed document and its text; ConfigError names file and line."""
    try:
        text = read_capped(path).decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts "(at line L, column C)" in its message; keep it.
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def line_of(text: str, key: str, value: str, occurrence: int = 1) -> int | None:
    """The 1-based line where ``key = "value"`` stands (its n-th time), if it does."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=\s*[\"']{re.escape(value)}[\"']", re.M)
    matches = list(pattern.finditer(text))
    if len(matches) < occurrence:
        return None
    return text.count("\n", 0, matches[occurrence - 1].start()) + 1


def toml_string(value: str) -> str:
    """A TOML basic string; JSON's escapes are TOML's, but DEL must be escaped too."""
    import json

    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
