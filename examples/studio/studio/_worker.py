"""In-process workers: take jobs from the reliable queue, hold a lease, run the pipeline."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from ._context import Context
from ._errors import NotFound, StudioError
from ._pipeline import Pipeline

log = logging.getLogger("studio.worker")

TAKE_TIMEOUT = 1.0
BACKOFF = 1.0  # pause after a Redis failure before trying again


class WorkerPool:
    """N worker tasks plus a reaper that requeues jobs whose worker died."""

    def __init__(self, ctx: Context, pipeline: Pipeline) -> None:
        self.ctx = ctx
        self.pipeline = pipeline
        self.owner = f"{uuid.uuid4().hex[:12]}"
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def start(self) -> None:
        """Start the workers and the reaper."""
        for index in range(self.ctx.settings.workers):
            self._tasks.append(asyncio.create_task(self._work(f"{self.owner}-{index}")))
        if self.ctx.settings.workers:
            self._tasks.append(asyncio.create_task(self._reap()))

    async def stop(self) -> None:
        """Cancel every task (in-flight jobs are handed back to the queue).

        The loops also check a stop flag: a cancellation that a client library turns into an
        ordinary error (a race some of them have) still ends the loop at its next turn.
        """
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _work(self, owner: str) -> None:
        queue = self.ctx.queue
        while not self._stopping:
            try:
                job = await queue.take(TAKE_TIMEOUT)
            except StudioError as exc:
                log.warning("worker %s: cannot take jobs: %s", owner, exc)
                await asyncio.sleep(BACKOFF)
                continue
            if job is None:
                continue
            try:
                if not await queue.lease(job, owner, self.ctx.settings.lease_seconds):
                    await queue.drop_duplicate(job)
                    continue
                await self._run(job, owner)
            except NotFound:
                log.warning("worker %s: job %s names no episode; dropped", owner, job)
                with contextlib.suppress(StudioError):
                    await queue.done(job, owner)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await asyncio.shield(queue.give_back(job, owner))
                raise
            except Exception as exc:
                # the job stays in the processing list; the reaper requeues it after its lease
                log.warning("worker %s: job %s interrupted: %s", owner, job, exc)
                await asyncio.sleep(BACKOFF)

    async def _run(self, job: str, owner: str) -> None:
        renew = asyncio.create_task(self._renew(job, owner))
        try:
            state = await self.pipeline.run(job)
            log.info("episode %s %s", job, state)
        finally:
            renew.cancel()
            await asyncio.gather(renew, return_exceptions=True)
        await self.ctx.queue.done(job, owner)

    async def _renew(self, job: str, owner: str) -> None:
        seconds = self.ctx.settings.lease_seconds
        while True:
            await asyncio.sleep(seconds / 3)
            with contextlib.suppress(StudioError):
                await self.ctx.queue.renew(job, owner, seconds)

    async def _reap(self) -> None:
        while not self._stopping:
            try:
                requeued = await self.ctx.queue.reap()
                if requeued:
                    log.warning("requeued jobs without a live worker: %s", requeued)
            except StudioError as exc:
                log.warning("reaper: %s", exc)
            await asyncio.sleep(self.ctx.settings.lease_seconds / 2)
