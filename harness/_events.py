"""The run's stack event log: one JSONL file every xdist worker and the controller append to.

    _events.emit("fault applied", layer="tcp", fault="latency", proxy="comfyui--gw0", ms=500)

Each line carries its time, the process's worker (`gw0` …; `main` for the controller or a run
without xdist, as test records name it)
and the running test. Lines are single `write`s on an `O_APPEND` descriptor under `flock`, so
lines of concurrent processes never interleave. Without `HARNESS_EVENTS_FILE` nothing is written.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from harness import _locks, _workers
from harness._reached import current_test

ENV = "HARNESS_EVENTS_FILE"
MAIN = _workers.MAIN


def worker() -> str:
    """This process's xdist worker id, or `main`."""
    return _workers.current()


def emit(kind: str, **fields: Any) -> None:
    """Append one event; never fails the caller (an unwritable log loses the event only)."""
    target = os.environ.get(ENV)
    if not target:
        return
    event = {"time": time.time(), "worker": worker(), "test": current_test(), "kind": kind}
    line = json.dumps({**event, **fields}, default=str) + "\n"
    with contextlib.suppress(OSError):
        descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            with _locks.held(descriptor):
                os.write(descriptor, line.encode())
        finally:
            os.close(descriptor)


def read(path: Path) -> list[dict[str, Any]]:
    """Every event of a log, oldest first (a torn last line is skipped)."""
    if not path.exists():
        return []
    events = []
    for line in path.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            events.append(json.loads(line))
    return sorted(events, key=lambda e: float(e.get("time", 0)))


def during(
    events: list[dict[str, Any]], start: float, end: float, test: str = ""
) -> list[dict[str, Any]]:
    """The events between `start` and `end`, whoever caused them, and those of `test` itself
    (its exclusive section opens before its setup starts)."""
    return [
        e
        for e in events
        if start <= float(e.get("time", 0)) <= end or (test and e.get("test") == test)
    ]
