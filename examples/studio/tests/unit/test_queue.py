"""Reliable queue: jobs survive a dead worker and are requeued only when their lease is gone."""

from __future__ import annotations

import pytest

from studio._queue import JobQueue
from studio._redisio import RedisIO

pytestmark = pytest.mark.anyio


async def _push(io: RedisIO, *jobs: str) -> None:
    for job in jobs:
        await io._client().lpush(io.keys.pending(), job)


async def test_take_lease_done(queue: JobQueue, io: RedisIO) -> None:
    await _push(io, "a", "b")
    assert await queue.take(0.1) == "a"  # FIFO
    assert await queue.depth() == (1, 1)
    assert await queue.lease("a", "w1", 30)
    assert not await queue.lease("a", "w2", 30)  # a duplicate job is detected
    assert await queue.renew("a", "w1", 30) and not await queue.renew("a", "w2", 30)
    await queue.done("a", "w1")
    assert await queue.depth() == (1, 0)
    assert not await io._client().exists(io.keys.lease("a"))


async def test_take_times_out_on_an_empty_queue(queue: JobQueue) -> None:
    assert await queue.take(0.1) is None


async def test_reaper_requeues_a_dead_workers_job_on_the_second_scan(
    queue: JobQueue, io: RedisIO
) -> None:
    await _push(io, "lost", "alive")
    assert await queue.take(0.1) == "lost"  # worker dies before taking the lease
    assert await queue.take(0.1) == "alive"
    assert await queue.lease("alive", "w1", 30)
    assert await queue.reap() == []  # first sighting only
    assert await queue.reap() == ["lost"]
    assert await io._client().lrange(io.keys.pending(), 0, -1) == ["lost"]
    assert await io._client().lrange(io.keys.processing(), 0, -1) == ["alive"]


async def test_reaper_leaves_a_job_whose_lease_appears_between_scans(
    queue: JobQueue, io: RedisIO
) -> None:
    await _push(io, "slow")
    assert await queue.take(0.1) == "slow"
    assert await queue.reap() == []
    assert await queue.lease("slow", "w1", 30)
    assert await queue.reap() == [] and await queue.depth() == (0, 1)


async def test_give_back_returns_the_job_first_in_line(queue: JobQueue, io: RedisIO) -> None:
    await _push(io, "a", "b")
    assert await queue.take(0.1) == "a"
    assert await queue.lease("a", "w1", 30)
    await queue.give_back("a", "w1")
    assert await queue.take(0.1) == "a"
