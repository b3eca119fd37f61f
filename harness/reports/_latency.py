"""Latency samples of backend operations, recorded in the test process for the current test."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

# One sample: [backend, operation, milliseconds, faulted]
Sample = list[Any]
PERCENTILES = (50, 95, 99)


class Recorder:
    """Collects samples for the test that runs now; `faulted()` says if a fault is active."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples: list[Sample] = []
        self.faulted: Callable[[], bool] = lambda: False

    def begin(self, faulted: Callable[[], bool] | None = None) -> None:
        """Start a new test: drop samples of the previous one."""
        with self._lock:
            self._samples = []
        self.faulted = faulted or (lambda: False)

    def record(self, backend: str, operation: str, seconds: float, faulted: bool) -> None:
        """Add one timed operation."""
        with self._lock:
            self._samples.append([backend, operation, round(seconds * 1000, 3), faulted])

    def drain(self) -> list[Sample]:
        """The samples so far, forgotten here."""
        with self._lock:
            taken, self._samples = self._samples, []
        return taken


RECORDER = Recorder()


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile of sorted values, linearly interpolated."""
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def stats(values: Iterable[float]) -> dict[str, float | int]:
    """count, mean, p50, p95, p99 and max of millisecond values (empty: count 0 only)."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}
    summary: dict[str, float | int] = {
        "count": len(ordered),
        "mean": round(sum(ordered) / len(ordered), 3),
    }
    for q in PERCENTILES:
        summary[f"p{q}"] = round(percentile(ordered, q), 3)
    summary["max"] = ordered[-1]
    return summary


def split(samples: Iterable[Sample]) -> dict[str, dict[str, dict[str, list[float]]]]:
    """{backend: {operation: {"with_faults": [ms], "without_faults": [ms]}}}."""
    grouped: dict[str, dict[str, dict[str, list[float]]]] = {}
    for backend, operation, ms, faulted in samples:
        by_op = grouped.setdefault(backend, {}).setdefault(
            operation, {"with_faults": [], "without_faults": []}
        )
        by_op["with_faults" if faulted else "without_faults"].append(float(ms))
    return grouped


def summarise(samples: Iterable[Sample]) -> dict[str, Any]:
    """Per backend: overall and per-operation stats, separately with and without faults."""
    result: dict[str, Any] = {}
    for backend, operations in split(samples).items():
        overall: dict[str, list[float]] = {"with_faults": [], "without_faults": []}
        per_op: dict[str, Any] = {}
        for operation, conditions in sorted(operations.items()):
            per_op[operation] = {name: stats(values) for name, values in conditions.items()}
            for name, values in conditions.items():
                overall[name] += values
        result[backend] = {
            **{name: stats(values) for name, values in overall.items()},
            "operations": per_op,
        }
    return dict(sorted(result.items()))
