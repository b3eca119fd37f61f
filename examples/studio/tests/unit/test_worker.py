"""Stopping the worker pool ends every loop, even when a cancellation is swallowed on the way.

Seen in the integration suite: a fleet studio's worker kept retrying a Redis that was gone for
good, because its cancellation had turned into an ordinary backend error inside a client call,
and the studio never finished shutting down.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from studio._errors import BackendError
from studio._worker import WorkerPool

pytestmark = pytest.mark.anyio
WORKERS = 2


class SwallowingQueue:
    """An empty queue whose `take` turns a cancellation into a backend error."""

    def __init__(self) -> None:
        self.waiting = 0
        self.all_waiting = asyncio.Event()
        self.swallowed = 0

    async def take(self, timeout: float) -> str | None:
        self.waiting += 1
        if self.waiting == WORKERS:
            self.all_waiting.set()
        try:
            await asyncio.Event().wait()  # blocks until cancelled
        except asyncio.CancelledError:
            self.swallowed += 1
            raise BackendError("redis", "take_job failed: connection lost") from None
        return None


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_stop_ends_workers_whose_cancellation_became_an_error() -> None:
    queue = SwallowingQueue()
    settings = SimpleNamespace(workers=WORKERS, lease_seconds=4)
    context: Any = SimpleNamespace(queue=queue, settings=settings)
    pool = WorkerPool(context, pipeline=None)  # type: ignore[arg-type]  # no job ever arrives
    pool._reap = _idle  # type: ignore[method-assign]  # this test is about the workers
    pool.start()
    with anyio.fail_after(10):
        await queue.all_waiting.wait()
        await pool.stop()
    assert queue.swallowed == WORKERS  # each worker's cancellation was lost, and still it ended


async def _idle() -> None:
    await asyncio.Event().wait()
