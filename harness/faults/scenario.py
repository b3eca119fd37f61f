"""Scenarios: a YAML file describing a timed sequence of faults, with seeded randomness.

    seed: 7
    steps:
      - at: 0          # seconds from the start
        fault: latency
        service: comfyui
        ms: 300
      - at: {uniform: [4, 6]}      # any number may be drawn from the seeded RNG
        fault: loss
        service: redis
        percent: 20
      - at: 10
        clear: all                 # or a service name

Each `fault` is a method of `harness.faults.Faults` and the other keys its arguments.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from harness.faults import Faults
from harness.faults._base import Fault, FaultError
from harness.faults.tcp import TOXICS

# Every Faults method a step may name: Toxiproxy's toxics (harness.faults.tcp), then the rest.
FAULTS = (
    *TOXICS,
    "down",
    "loss",
    "rate_limit",
    "partition",
    "delay",
    "stop",
    "kill",
    "pause",
    "restart",
    "http",
)


class Step(BaseModel):
    """One timed step: apply a fault, or clear faults."""

    model_config = ConfigDict(extra="allow")

    at: Any = 0
    fault: str | None = None
    clear: str | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        if (self.fault is None) == (self.clear is None):
            raise ValueError("each step needs exactly one of `fault` or `clear`")
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; known: {', '.join(FAULTS)}")
        return self

    @property
    def arguments(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ScenarioSpec(BaseModel):
    """A whole scenario file."""

    model_config = ConfigDict(extra="forbid")

    name: str = "scenario"
    seed: int = 0
    steps: list[Step]


def _resolve(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict) and set(value) == {"uniform"}:
        low, high = value["uniform"]
        return rng.uniform(float(low), float(high))
    if isinstance(value, dict) and set(value) == {"choice"}:
        return rng.choice(list(value["choice"]))
    return value


@dataclass
class Scenario:
    """A loaded scenario: steps with every random value drawn from its seed."""

    name: str
    seed: int
    steps: list[tuple[float, Step, dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def parse(cls, document: Any) -> Scenario:
        """Validate a scenario document (one error naming the bad step)."""
        try:
            spec = ScenarioSpec.model_validate(document)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise FaultError(f"invalid scenario ({where}): {first['msg']}") from None
        rng = random.Random(spec.seed)
        steps = []
        for step in spec.steps:
            at = float(_resolve(step.at, rng))
            arguments = {key: _resolve(value, rng) for key, value in step.arguments.items()}
            steps.append((at, step, arguments))
        steps.sort(key=lambda entry: entry[0])
        return cls(spec.name, spec.seed, steps)

    @classmethod
    def load(cls, path: Path | str) -> Scenario:
        """Read a scenario from a YAML file."""
        try:
            document = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError) as error:
            raise FaultError(f"cannot read scenario {path}: {error}") from None
        return cls.parse(document)

    def run(
        self,
        faults: Faults,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        report: Callable[[float, str], None] = lambda at, what: None,
    ) -> list[tuple[float, str]]:
        """Play the steps on schedule; everything still active is cleared at the end."""
        start = clock()
        log: list[tuple[float, str]] = []
        by_service: dict[str, list[Fault]] = {}
        try:
            for at, step, arguments in self.steps:
                delay = start + at - clock()
                if delay > 0:
                    sleep(delay)  # the schedule itself, not synchronisation
                if step.fault is not None:
                    fault = getattr(faults, step.fault)(**arguments)
                    service = str(arguments.get("service", arguments.get("a", "")))
                    by_service.setdefault(service, []).append(fault)
                    what = f"{step.fault} {arguments}"
                elif step.clear == "all":
                    faults.clear()
                    by_service.clear()
                    what = "clear all"
                else:
                    for fault in by_service.pop(str(step.clear), []):
                        fault.clear()
                    what = f"clear {step.clear}"
                elapsed = clock() - start
                log.append((elapsed, what))
                report(elapsed, what)
        finally:
            faults.clear()
        return log
