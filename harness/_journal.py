"""What went through the HTTP fault layer: each request a worker's clients sent to an HTTP
backend, its response, its timings, and the fault that touched it.

    def test_retries(openai_client, faults, journal):
        faults.http("litellm", status=429, retry_after=1, path="/chat/completions", times=1)
        openai_client.chat.completions.create(model="mock-gpt", messages=[...])
        attempts = journal("litellm").find(method="POST", path="/chat/completions")
        assert [a.status for a in attempts] == [429, 200]
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from harness._httpfaults import HttpFaultsClient

__all__ = ["Exchange", "Journal"]


@dataclass(frozen=True)
class Exchange:
    """One request and its response as the layer saw them (bodies: their first KiB)."""

    seq: int
    method: str
    path: str
    target: str  # path and query
    status: int | None
    started: float  # epoch seconds
    ttfb_ms: float | None  # to the response's first byte
    duration_ms: float | None
    outcome: str  # complete, answered (by a fault), reset, cut, truncated, closed, upgraded
    fault: dict[str, Any] | None = None  # {"rule": id, "action": ...} when one touched it
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: str = ""
    response_body: str = ""
    request_bytes: int = 0
    response_bytes: int = 0

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> Exchange:
        known = {name: entry[name] for name in cls.__dataclass_fields__ if name in entry}
        for name in ("request_headers", "response_headers"):
            known[name] = [tuple(pair) for pair in entry.get(name, [])]
        return cls(**known)

    def header(self, name: str) -> str | None:
        """A request header's value."""
        return next((v for k, v in self.request_headers if k.lower() == name.lower()), None)

    def response_header(self, name: str) -> str | None:
        """A response header's value."""
        return next((v for k, v in self.response_headers if k.lower() == name.lower()), None)

    def line(self) -> str:
        """One line for a report: `POST /chat/completions 429 (fault r1 status) 2.1 ms`."""
        fault = f" (fault {self.fault['rule']} {self.fault['action']})" if self.fault else ""
        took = f" {self.duration_ms:.1f} ms" if self.duration_ms is not None else ""
        status = self.status if self.status is not None else "-"
        return f"{self.method} {self.target} {status} {self.outcome}{fault}{took}"


class Journal:
    """One route's exchanges after a mark (a test's own, for the `journal` fixture), read anew at
    each call: `find`, `count`, iteration and `len` see what has happened so far."""

    def __init__(self, client: HttpFaultsClient, route: str, after: int = 0) -> None:
        self.client, self.route, self.after = client, route, after

    def entries(self) -> list[Exchange]:
        """Every exchange so far, oldest first."""
        return [Exchange.from_entry(e) for e in self.client.journal(self.route, self.after)]

    def find(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        faulted: bool | None = None,
    ) -> list[Exchange]:
        """The exchanges of this method, path (a glob), status, and with or without a fault."""
        return [
            exchange
            for exchange in self.entries()
            if (method is None or exchange.method == method.upper())
            and (path is None or fnmatch.fnmatchcase(exchange.path, path))
            and (status is None or exchange.status == status)
            and (faulted is None or (exchange.fault is not None) == faulted)
        ]

    def count(self, **how: Any) -> int:
        """How many exchanges `find(**how)` gives."""
        return len(self.find(**how))

    def __iter__(self) -> Iterator[Exchange]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self.entries())
