"""The exit codes of every command, in one place.

Like ``terraform plan -detailed-exitcode``: 0 nothing to do, 1 something to look
at (drift, findings, changes pending, a declined write), 2 could not do the job.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHANGES = 1  # drift, findings, changes pending or a declined write
    ERROR = 2  # bad input, unreachable portal, refusal, usage error
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT

    @classmethod
    def for_status(cls, status: str) -> ExitCode:
        """A report's status word as an exit code."""
        return {"ok": cls.OK, "error": cls.ERROR}.get(status, cls.CHANGES)

    @classmethod
    def worst(cls, codes: list[ExitCode]) -> ExitCode:
        """Error beats changes, changes beat ok."""
        return max(codes, default=cls.OK, key=lambda c: (c == cls.ERROR, c == cls.CHANGES))
