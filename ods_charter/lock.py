"""One writer per page on this machine: an advisory lock per portal and slug.

Two ``publish``/``sync`` runs started from the same project directory take the
same lock file, so their re-read, PUT and read-back cannot interleave. The lock
is released by the kernel when the process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ods_charter.backup import page_file_part, private_dir
from ods_charter.errors import PublishError

DEFAULT_LOCK_WAIT = 30.0  # seconds: a publish takes a few round trips


@contextmanager
def page_lock(
    portal: str, slug: str, *, lock_dir: Path, wait: float = DEFAULT_LOCK_WAIT
) -> Iterator[Path]:
    """Hold the page's lock, waiting at most ``wait`` seconds for another run."""
    path = private_dir(lock_dir) / f"{page_file_part(portal, slug)}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise PublishError(
                        f"another ods-charter run is writing page {slug!r} on {portal} "
                        f"(lock {path}, waited {wait:g} s): nothing was written; "
                        "run the command again once it has finished"
                    ) from None
                time.sleep(0.05)
        yield path
    finally:
        os.close(fd)
