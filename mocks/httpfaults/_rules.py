"""A fault rule: which requests it matches, which of them it hits, and what it does to them."""

from __future__ import annotations

import asyncio
import fnmatch
import math
import random
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._journal import Exchange

ACTIONS = (
    "status",
    "delay_ms",
    "reset",
    "truncate",
    "corrupt",
    "body_rate",
    "hang",
    "cut_after",
)


class RuleSpec(BaseModel):
    """Body of `POST /routes/{route}/faults`: one action (or a delay with another), a match and
    a trigger."""

    model_config = ConfigDict(extra="forbid")

    # what it does
    status: int | None = Field(default=None, ge=100, le=599)
    body: str = ""
    headers: dict[str, str] = Field(default_factory=dict)
    delay_ms: float | None = Field(default=None, ge=0)  # fixed; the low end or median below
    delay_max_ms: float | None = Field(default=None, ge=0)  # uniform in [delay_ms, this]
    delay_sigma: float | None = Field(default=None, gt=0)  # lognormal around delay_ms
    delay_at: Literal["headers", "chunks"] = "headers"
    reset: Literal["before_headers", "after_headers"] | None = None
    truncate: int | None = Field(default=None, ge=0)  # body bytes passed before the close
    corrupt: bool = False
    body_rate: float | None = Field(default=None, gt=0)  # body bytes per second
    hang: bool = False
    cut_after: int | None = Field(default=None, ge=0)  # SSE events, WebSocket messages, chunks
    # which requests
    method: str | None = None
    path: str | None = None  # a glob on the path (no query)
    path_regex: str | None = None
    match_headers: dict[str, str] = Field(default_factory=dict)  # name -> glob on the value
    body_contains: str | None = None
    # which of those
    times: int | None = Field(default=None, ge=1)
    every: int | None = Field(default=None, ge=1)
    probability: float | None = Field(default=None, ge=0, le=1)
    seed: int = 0

    @field_validator("path_regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"path_regex {value!r} is not a regex: {error}") from None
        return value

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else None

    @model_validator(mode="after")
    def _one_action(self) -> RuleSpec:
        chosen = [name for name in ACTIONS if getattr(self, name) not in (None, False)]
        if not chosen:
            raise ValueError(f"a fault needs one of {', '.join(ACTIONS)}")
        if len([name for name in chosen if name != "delay_ms"]) > 1:
            raise ValueError(f"one action per fault (a delay may join it), got {', '.join(chosen)}")
        if (self.delay_max_ms is not None or self.delay_sigma is not None) and (
            self.delay_ms is None
        ):
            raise ValueError("delay_max_ms and delay_sigma need delay_ms")
        if self.delay_max_ms is not None and self.delay_max_ms < (self.delay_ms or 0):
            raise ValueError("delay_max_ms must be >= delay_ms")
        if (self.body or self.headers) and self.status is None:
            raise ValueError("body and headers go with a status")
        return self


class Rule:
    """An active rule on one route: its counters, its random draws, its release (hang)."""

    def __init__(self, number: int, route: str, spec: RuleSpec) -> None:
        self.id = f"r{number}"
        self.spec = spec
        self.matched = 0
        self.hits = 0
        self._random = random.Random(f"{spec.seed}:{route}:{self.id}")
        self._path = re.compile(spec.path_regex) if spec.path_regex else None
        self.released = asyncio.Event()  # set when the rule is removed: hung requests go on

    @property
    def needs_body(self) -> bool:
        return self.spec.body_contains is not None

    @property
    def exhausted(self) -> bool:
        return self.spec.times is not None and self.hits >= self.spec.times

    def matches(self, exchange: Exchange, body: bytes | None = None) -> bool:
        """Whether the request is in this rule's scope (`body`: the buffered request body; None
        leaves `body_contains` to be checked once the body is in)."""
        spec = self.spec
        if spec.method and spec.method != exchange.method:
            return False
        if spec.path and not fnmatch.fnmatchcase(exchange.path, spec.path):
            return False
        if self._path and not self._path.search(exchange.path):
            return False
        for name, pattern in spec.match_headers.items():
            value = exchange.header(name)
            if value is None or not fnmatch.fnmatchcase(value, pattern):
                return False
        if spec.body_contains is not None and body is not None:
            return spec.body_contains.encode() in body
        return True

    def fires(self) -> bool:
        """Count a matching request; whether the rule hits it (next N, every Nth, or drawn)."""
        if self.exhausted:
            return False
        self.matched += 1
        if self.spec.every and self.matched % self.spec.every:
            return False
        if self.spec.probability is not None and self._random.random() >= self.spec.probability:
            return False
        self.hits += 1
        return True

    def delay(self) -> float:
        """One delay in seconds: fixed, uniform, or lognormal with median `delay_ms`."""
        spec = self.spec
        low = spec.delay_ms or 0.0
        if spec.delay_max_ms is not None:
            low = self._random.uniform(low, spec.delay_max_ms)
        elif spec.delay_sigma is not None and low > 0:
            low = self._random.lognormvariate(math.log(low), spec.delay_sigma)
        return low / 1000

    def corrupt(self, data: bytes) -> bytes:
        """The same number of bytes, each changed (a body no parser takes for the original)."""
        return bytes(byte ^ 0x5A for byte in data)

    def touched(self, what: str) -> dict[str, Any]:
        return {"rule": self.id, "action": what}

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.spec.model_dump(exclude_defaults=True),
            "matched": self.matched,
            "hits": self.hits,
        }

    @property
    def action(self) -> str:
        """The rule's action name (a bare delay is `delay`)."""
        for name in ACTIONS:
            if name != "delay_ms" and getattr(self.spec, name) not in (None, False):
                return name
        return "delay"
