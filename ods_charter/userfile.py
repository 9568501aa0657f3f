"""Reading a file the user named, with a size cap.

``/dev/zero``, ``/dev/urandom`` or a runaway pipe would otherwise be read until
memory runs out; past the cap the file is refused with one line.
"""

from __future__ import annotations

from pathlib import Path

from ods_charter.errors import ConfigError

MAX_USER_FILE = 20_000_000  # a page is capped at this size; configs are kilobytes


def read_capped(path: Path, cap: int = MAX_USER_FILE) -> bytes:
    """The whole file, or ConfigError when it holds more than ``cap`` bytes."""
    with path.open("rb") as handle:
        data = handle.read(cap + 1)
    if len(data) > cap:
        raise ConfigError(f"{path}: more than {cap:,} bytes: not a file ods-charter reads")
    return data
