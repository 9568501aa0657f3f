"""The audit log: one JSON line before each write, one once its outcome is known.

Both lines carry the same ``id``; a "started" line without its "completed"
line means the run ended before it could tell (the process was killed).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ods_charter.secrets import redact


def audit(path: Path, entry: dict[str, Any]) -> None:
    """Append one redacted line; OSError when the log cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"time": datetime.now(UTC).isoformat(), **entry}
    line = redact(json.dumps(record, ensure_ascii=False))
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()


def new_id() -> str:
    return uuid.uuid4().hex
