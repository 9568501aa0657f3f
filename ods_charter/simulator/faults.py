"""Misbehaviour on demand, armed through ``/__simulator__/faults``."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Faults:
    latency: float = 0.0  # seconds added to every public or API request
    fail_status: int = 503
    fail_count: int = 0  # the next N requests answer fail_status
    fail_methods: list[str] | None = None  # only these methods meet fail_count (None: all)
    retry_after: str | None = None
    drop: int = 0  # the next N requests get a closed connection, no answer
    truncate: int = 0  # the next N answers stop halfway through the body
    lose_put_response: int = 0  # the next N PUTs are applied, then the answer is lost
    concurrent_edit: dict[str, Any] | None = None  # {"slug", "after_reads"}
    # The next PUT stores this field altered, not as sent ("html", "css", "title", ...).
    corrupt_put: str | None = None
    # Someone else's edit lands while the next PUT of "slug" is in flight:
    # "before" it is applied (then overwritten) or "after" (before the answer).
    edit_during_put: dict[str, Any] | None = None
    put_answer_delay: float | None = None  # the next PUT is applied, then answers this late
    # The next PUT is applied, then answered with {"status", "body"} (a proxy's 502, ...).
    put_answer: dict[str, Any] | None = None
    consent: str | None = None  # analytics misbehave: "before_consent" | "ignore_refusal"
    trickle: int = 0  # the next N answers start one byte at a time
    trickle_bytes: int = 40  # how many bytes go one at a time (the rest at once)
    trickle_delay: float = 0.1  # seconds between two of those bytes
    redirect: int = 0  # the next N requests answer redirect_status to redirect_to + path
    redirect_to: str | None = None
    redirect_status: int = 307
    redirect_cookie: str | None = None  # a Set-Cookie value the redirect itself carries
    next_origin: str | None = None  # the page list's next/previous links name this origin
    # The next N public pages are sent gzip-compressed and padded with spaces to
    # this many bytes once decompressed: a small answer that grows huge.
    gzip_bomb: int = 0
    gzip_bomb_bytes: int = 50_000_000
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def arm(self, spec: dict[str, Any]) -> None:
        allowed = {
            "latency",
            "fail_status",
            "fail_count",
            "fail_methods",
            "retry_after",
            "drop",
            "truncate",
            "lose_put_response",
            "concurrent_edit",
            "consent",
            "corrupt_put",
            "edit_during_put",
            "put_answer_delay",
            "put_answer",
            "trickle",
            "trickle_bytes",
            "trickle_delay",
            "redirect",
            "redirect_to",
            "redirect_status",
            "redirect_cookie",
            "next_origin",
            "gzip_bomb",
            "gzip_bomb_bytes",
        }
        unknown = set(spec) - allowed
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        if spec.get("consent") not in (None, "before_consent", "ignore_refusal"):
            raise ValueError("consent: expected before_consent, ignore_refusal or null")
        with self.lock:
            for key, value in spec.items():
                setattr(self, key, None if value is None and key == "retry_after" else value)

    def pop(self, name: str) -> Any:
        """Take a one-shot fault: its value, then disarmed."""
        with self.lock:
            value = getattr(self, name)
            setattr(self, name, None)
            return value

    def clear(self) -> None:
        with self.lock:
            self.latency, self.fail_count, self.drop, self.truncate = 0.0, 0, 0, 0
            self.lose_put_response, self.concurrent_edit, self.retry_after = 0, None, None
            self.fail_status, self.fail_methods = 503, None
            self.corrupt_put, self.edit_during_put, self.put_answer_delay = None, None, None
            self.put_answer = None
            self.consent = None
            self.trickle, self.trickle_bytes, self.trickle_delay = 0, 40, 0.1
            self.redirect, self.redirect_to, self.redirect_status = 0, None, 307
            self.redirect_cookie = None
            self.next_origin = None
            self.gzip_bomb, self.gzip_bomb_bytes = 0, 50_000_000

    def take(self, name: str) -> bool:
        """Consume one occurrence of a counted fault."""
        with self.lock:
            left: int = getattr(self, name)
            if left > 0:
                setattr(self, name, left - 1)
                return True
            return False

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {k: v for k, v in self.__dict__.items() if k != "lock"}
