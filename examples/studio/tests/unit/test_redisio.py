"""RedisIO against a restarted server: the first connection error drops every idle connection.

Behind a proxy, a connection to a restarted Redis looks healthy to redis-py until it is used. A
busy studio holds many of them; without the reset, each concurrent caller's retries drew one dead
connection after another and answered 503 although Redis was back (seen in the integration suite).
The server here is a real TCP listener speaking just enough RESP for PING.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from studio._redisio import RedisIO
from studio._retry import RetryPolicy

pytestmark = pytest.mark.anyio
POOLED = 4  # idle connections in the pool when the server "restarts"


class RestartableServer:
    """Answers every command with +PONG; after `restart()` its old connections look idle and
    healthy but reset (RST) as soon as they are used, as a backend restarted behind a proxy."""

    def __init__(self) -> None:
        self.writers: set[asyncio.StreamWriter] = set()
        self.stale: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> RestartableServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def restart(self) -> None:
        self.stale |= self.writers

    @staticmethod
    def _reset(writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # linger 0: the peer gets an RST, not a FIN

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            while line := await reader.readline():
                if line.startswith(b"*"):  # one reply per command (RESP array header)
                    for _ in range(int(line[1:]) * 2):
                        await reader.readline()
                    if writer in self.stale:
                        self._reset(writer)
                        break
                    writer.write(b"+PONG\r\n")
                    await writer.drain()
        except (ConnectionError, ValueError):
            pass
        finally:
            self.writers.discard(writer)
            self.stale.discard(writer)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def server() -> AsyncIterator[RestartableServer]:
    async with RestartableServer() as running:
        yield running


async def test_a_restart_resets_the_pool_so_the_retry_gets_a_fresh_connection(
    server: RestartableServer,
) -> None:
    client = Redis(port=server.port, retry=Retry(NoBackoff(), 0))  # as the studio's: no retries
    io = RedisIO(lambda: client, lambda: "t", lambda: RetryPolicy(2, 5.0, 0.0, 0.0))
    try:
        assert await asyncio.gather(*(client.ping() for _ in range(POOLED))) == [True] * POOLED
        pool = client.connection_pool
        assert len(pool._available_connections) == POOLED  # idle, waiting for reuse

        server.restart()

        assert await io.run("ping", lambda redis: redis.ping()) is True  # the 2nd try succeeds
        assert sum(c.is_connected for c in pool._available_connections) == 1  # the fresh one
    finally:
        await client.aclose()
