"""What went through a route: one entry per request and its response, newest last."""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

BODY_HEAD = 1024  # bytes of each body a journal entry keeps
KEPT = 1000  # exchanges a route keeps, the newest


@dataclass
class Exchange:
    """One request and its response as they pass (filled in as the bytes arrive)."""

    method: str = ""
    target: str = ""  # path and query, as sent
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytearray = field(default_factory=bytearray)
    request_bytes: int = 0
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytearray = field(default_factory=bytearray)
    response_bytes: int = 0
    started: float = field(default_factory=time.time)
    first_byte: float | None = None
    ended: float | None = None
    fault: dict[str, Any] | None = None  # the rule that touched it and what it did
    outcome: str = "pending"  # complete, answered, reset, cut, truncated, closed, unreachable

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def header(self, name: str) -> str | None:
        """A request header's value (the first of that name)."""
        name = name.lower()
        return next((v for k, v in self.request_headers if k.lower() == name), None)

    def response_header(self, name: str) -> str | None:
        """A response header's value (the first of that name)."""
        name = name.lower()
        return next((v for k, v in self.response_headers if k.lower() == name), None)

    def keep_request_body(self, data: bytes) -> None:
        self.request_bytes += len(data)
        room = BODY_HEAD - len(self.request_body)
        if room > 0:
            self.request_body += data[:room]

    def keep_response_body(self, data: bytes) -> None:
        if self.first_byte is None:
            self.first_byte = time.time()
        self.response_bytes += len(data)
        room = BODY_HEAD - len(self.response_body)
        if room > 0:
            self.response_body += data[:room]

    def finish(self, outcome: str) -> None:
        if self.ended is None:
            self.ended = time.time()
            self.outcome = outcome

    def as_entry(self, seq: int, route: str) -> dict[str, Any]:
        """The exchange as the API shows it (built when read, not when recorded)."""
        return {
            "seq": seq,
            "route": route,
            "method": self.method,
            "target": self.target,
            "path": self.path,
            "request_headers": self.request_headers,
            "request_body": self.request_body.decode("utf-8", "replace"),
            "request_bytes": self.request_bytes,
            "status": self.status,
            "response_headers": self.response_headers,
            "response_body": self.response_body.decode("utf-8", "replace"),
            "response_bytes": self.response_bytes,
            "started": self.started,
            "first_byte": self.first_byte,
            "ended": self.ended,
            "ttfb_ms": None if self.first_byte is None else (self.first_byte - self.started) * 1e3,
            "duration_ms": None if self.ended is None else (self.ended - self.started) * 1e3,
            "fault": self.fault,
            "outcome": self.outcome,
        }


class Journal:
    """A route's finished exchanges, numbered (`after` reads only those newer than a number)."""

    def __init__(self, route: str) -> None:
        self.route = route
        self._seq = itertools.count(1)
        self._entries: deque[tuple[int, Exchange]] = deque(maxlen=KEPT)
        self.last = 0

    def record(self, exchange: Exchange) -> None:
        self.last = next(self._seq)
        self._entries.append((self.last, exchange))

    def read(self, after: int = 0) -> list[dict[str, Any]]:
        return [ex.as_entry(seq, self.route) for seq, ex in self._entries if seq > after]
