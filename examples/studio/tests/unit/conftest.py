"""Fixtures for the studio unit tests: an in-memory Redis (fakeredis, with Lua) per test.

Async tests run on asyncio through anyio's pytest plugin (`pytestmark = pytest.mark.anyio`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import fakeredis
import pytest

from studio._events import EventLog
from studio._queue import JobQueue
from studio._redisio import RedisIO
from studio._retry import RetryPolicy
from studio._store import Store


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def redis() -> AsyncIterator[fakeredis.FakeAsyncRedis]:
    client = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer(), decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def io(redis: fakeredis.FakeAsyncRedis) -> RedisIO:
    return RedisIO(lambda: redis, lambda: "t", lambda: RetryPolicy(2, 5.0, 0.0, 0.0))


@pytest.fixture
def store(io: RedisIO) -> Store:
    return Store(io)


@pytest.fixture
def events(io: RedisIO) -> EventLog:
    return EventLog(io, block_ms=200)


@pytest.fixture
def queue(io: RedisIO) -> JobQueue:
    return JobQueue(io)
