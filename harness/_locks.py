"""Every file lock of the harness: `flock` on a file, held for a `with` block.

The processes of one run (the xdist controller and workers) coordinate through lock files in the
run's shared directory: who starts the stack, which tests may run beside an exclusive one, and
whose line goes into the event log. All of them lock here, with one primitive (`flock`, released
by the kernel when a process dies, however it dies).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def acquire(file: IO[Any] | int, *, shared: bool = False) -> None:
    """Lock `file` (an open file or descriptor), waiting as long as it takes: exclusively, or
    shared with the other shared holders."""
    fcntl.flock(file, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)


def release(file: IO[Any] | int) -> None:
    """Unlock `file` (closing it unlocks it too)."""
    fcntl.flock(file, fcntl.LOCK_UN)


@contextmanager
def held(file: IO[Any] | int, *, shared: bool = False) -> Iterator[None]:
    """Hold `file` locked for the block (see `acquire`)."""
    acquire(file, shared=shared)
    try:
        yield
    finally:
        release(file)


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold the lock file at `path` (created if missing) exclusively for the block."""
    with open(path, "a") as file, held(file):
        yield
