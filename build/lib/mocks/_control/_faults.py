"""Fault rules: what to do to the next matching requests."""

from __future__ import annotations

import itertools
import random
import re
import threading
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ids = itertools.count(1)


class FaultSpec(BaseModel):
    """Body of POST /__harness/faults."""

    model_config = ConfigDict(extra="forbid")

    status: int | None = Field(default=None, ge=100, le=599)
    delay_ms: float | None = Field(default=None, ge=0)
    delay_max_ms: float | None = Field(default=None, ge=0)
    malformed: bool = False
    drop: bool = False
    times: int | None = Field(default=None, ge=1)
    fraction: float | None = Field(default=None, gt=0, le=1)
    path: str | None = None
    method: str | None = None

    @field_validator("path")
    @classmethod
    def _regex_compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"invalid path regex: {exc}") from exc
        return v

    @field_validator("method")
    @classmethod
    def _upper(cls, v: str | None) -> str | None:
        return v.upper() if v else None

    @model_validator(mode="after")
    def _does_something(self) -> FaultSpec:
        if self.delay_max_ms is not None and self.delay_ms is None:
            self.delay_ms = 0.0
        if (
            self.delay_max_ms is not None
            and self.delay_ms is not None
            and self.delay_max_ms < self.delay_ms
        ):
            raise ValueError("delay_max_ms must be >= delay_ms")
        if not (self.status or self.delay_ms or self.malformed or self.drop):
            raise ValueError("a fault needs status, delay_ms, malformed or drop")
        return self


class FaultRule:
    """One active rule with its remaining count and hit counter."""

    def __init__(self, spec: FaultSpec) -> None:
        self.id = f"f{next(_ids)}"
        self.spec = spec
        self.remaining = spec.times
        self.hits = 0
        self._path_re = re.compile(spec.path) if spec.path else None

    def matches(self, method: str, path: str) -> bool:
        """Whether method/path are in this rule's scope (ignores fraction and count)."""
        if self.spec.method and self.spec.method != method.upper():
            return False
        return not (self._path_re and not self._path_re.search(path))

    def delay_seconds(self, rng: random.Random) -> float:
        """Fixed delay, or a uniformly random one in [delay_ms, delay_max_ms]."""
        lo = self.spec.delay_ms or 0.0
        hi = self.spec.delay_max_ms
        ms = rng.uniform(lo, hi) if hi is not None and hi > lo else lo
        return ms / 1000.0

    def as_dict(self) -> dict[str, Any]:
        """JSON view of the rule."""
        return {
            "id": self.id,
            **self.spec.model_dump(),
            "remaining": self.remaining,
            "hits": self.hits,
        }


class FaultBook:
    """Ordered fault rules of one namespace."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, spec: FaultSpec) -> FaultRule:
        """Add a rule at the end (earlier rules win)."""
        rule = FaultRule(spec)
        with self._lock:
            self._rules.append(rule)
        return rule

    def pick(self, method: str, path: str, rng: random.Random) -> FaultRule | None:
        """First rule that matches and fires; consumes one of its `times`."""
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.spec.fraction is not None and rng.random() >= rule.spec.fraction:
                    continue
                rule.hits += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                return rule
        return None

    def list(self) -> list[dict[str, Any]]:
        """All active rules."""
        with self._lock:
            return [r.as_dict() for r in self._rules]

    def remove(self, rule_id: str) -> bool:
        """Remove one rule by id."""
        with self._lock:
            for rule in self._rules:
                if rule.id == rule_id:
                    self._rules.remove(rule)
                    return True
        return False

    def clear(self) -> int:
        """Remove all rules; return how many there were."""
        with self._lock:
            n = len(self._rules)
            self._rules.clear()
        return n
