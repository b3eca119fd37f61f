"""Exclusive tests: a fair reader/writer lock over the shared stack, across xdist workers.

Every test holds the stack lock while it runs: shared, or exclusively when marked
`exclusive_stack`. A turnstile in front of it makes the lock fair: a waiting exclusive test
holds the turnstile, so no new shared test gets in ahead of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness import _events, _locks

TURNSTILE_FILE = "harness-turnstile.lock"
STACK_LOCK_FILE = "harness-exclusive.lock"


@contextmanager
def turn(shared: Path, test: str, exclusive: bool) -> Iterator[None]:
    """Run the block as test `test`: alone on the stack if `exclusive`, else beside the other
    shared tests (the lock files live in the run's `shared` directory)."""
    with (
        open(shared / TURNSTILE_FILE, "a") as turnstile,
        open(shared / STACK_LOCK_FILE, "a") as stack_lock,
    ):
        with _locks.held(turnstile):  # a waiting exclusive test blocks new shared ones
            _locks.acquire(stack_lock, shared=not exclusive)
        try:
            if exclusive:
                _events.emit("exclusive entered", test=test)
            yield
        finally:
            if exclusive:
                _events.emit("exclusive left", test=test)
            _locks.release(stack_lock)
