"""VOD transcode lifecycle: queued -> processing (percent rising) -> complete | error.

A run is a plan fixed when the VOD is created; its state at any moment is computed from the
elapsed time, so no background task is needed and reads are cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

# VodDto.vodState's enum, in the export's order; transactionType (an integer, "the state the VOD
# is now in") is taken to be the index of the state in this enum.
VOD_STATES: tuple[str, ...] = (
    "unknown",
    "queued",
    "processing",
    "partial",
    "complete",
    "error",
    "permanentFailure",
    "disabled",
    "waiting",
)

ERROR_MESSAGE = "Transcode failed: encoder exited with status 1 (forced by the Cablecast mock)"


def iso(ts: float) -> str:
    """Unix time -> Cablecast-style ISO timestamp (seconds precision, UTC, no zone)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def transaction_type(state: str) -> int:
    """The integer transactionType for a vodState name."""
    return VOD_STATES.index(state)


@dataclass(frozen=True)
class Snapshot:
    """State of a run at one moment."""

    state: str
    percent: int
    error: str | None
    changed_at: float
    transitions: tuple[tuple[str, int, float], ...]  # (state, percent, started_at)


@dataclass(frozen=True)
class VodRun:
    """Schedule of one transcode: `step_seconds` queued, then `steps` processing steps."""

    created_at: float
    step_seconds: float
    steps: int
    fail: bool

    def at(self, now: float) -> Snapshot:
        """Snapshot of the run at Unix time `now`."""
        step = max(self.step_seconds, 0.0)
        transitions: list[tuple[str, int, float]] = [("queued", 0, self.created_at)]
        elapsed = now - self.created_at
        done_at = self.created_at + step * (self.steps + 1)
        finished = step == 0 or elapsed >= step * (self.steps + 1)
        reached = self.steps if finished else min(self.steps, math.floor(elapsed / step))
        for k in range(1, reached + 1):
            percent = round(100 * k / (self.steps + 1))
            transitions.append(("processing", percent, self.created_at + step * k))
        if finished:
            end_state = "error" if self.fail else "complete"
            end_percent = transitions[-1][1] if self.fail else 100
            transitions.append((end_state, end_percent, done_at))
        state, percent, changed = transitions[-1]
        error = ERROR_MESSAGE if state == "error" else None
        return Snapshot(state, percent, error, changed, tuple(transitions))
