"""What the HTTP layer reports while it works (each request, each wait before a
retry), for ``--verbose`` and the "retrying in N s" line. Kept apart from the
transport so that listening costs no import of the HTTP client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestEvent:
    kind: str  # "response", "failure" (no answer) or "retry" (about to wait)
    method: str
    url: str  # never holds a key: keys travel in a header
    attempt: int  # 1-based
    attempts: int
    status: int | None = None
    seconds: float = 0.0  # the request's duration, or the wait before a retry
    reason: str = ""


LISTENERS: list[Callable[[RequestEvent], None]] = []


def emit(event: RequestEvent) -> None:
    for listener in list(LISTENERS):
        listener(event)
