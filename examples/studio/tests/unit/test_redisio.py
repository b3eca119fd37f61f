"""RedisIO against a restarted server: the first connection error drops every idle connection.

Behind a proxy, a connection to a restarted Redis looks healthy to redis-py until it is used. A
busy studio holds many of them; without the reset, each concurrent caller's retries drew one dead
connection after another and answered 503 although Redis was back (seen in the integration suite).
The server here is a real TCP listener speaking just enough RESP for what a client connecting
to the studio's Redis (7.0) says: HELLO, which redis-py 8 sends first to switch to RESP3 (its
default protocol since 8.0), and PING.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.connection import DEFAULT_RESP_VERSION

from studio._redisio import RedisIO
from studio._retry import RetryPolicy

pytestmark = pytest.mark.anyio
POOLED = 4  # idle connections in the pool when the server "restarts"


def _bulk(value: str | int) -> bytes:
    if isinstance(value, int):
        return b":%d\r\n" % value
    return b"$%d\r\n%s\r\n" % (len(value), value.encode())


def hello_reply(protocol: int, connection_id: int) -> bytes:
    """Redis 7.0's reply to `HELLO <protocol>`: the server's properties, a map in RESP3 and a
    flat array in RESP2 (or NOPROTO for another version)."""
    if protocol not in (2, 3):
        return b"-NOPROTO unsupported protocol version\r\n"
    fields: list[str | int] = [
        *("server", "redis", "version", "7.0.15", "proto", protocol, "id", connection_id),
        *("mode", "standalone", "role", "master", "modules"),
    ]
    pairs = len(fields) // 2 + 1  # "modules": an empty array, last
    header = b"%%%d\r\n" % pairs if protocol == 3 else b"*%d\r\n" % (2 * pairs)
    return header + b"".join(map(_bulk, fields)) + b"*0\r\n"


async def read_command(reader: asyncio.StreamReader, header: bytes) -> list[bytes]:
    """A command's arguments after its RESP array `header` (each a bulk string: $len, data)."""
    arguments = []
    for _ in range(int(header[1:])):
        await reader.readline()
        arguments.append((await reader.readline())[:-2])
    return arguments


class RestartableServer:
    """Answers HELLO as Redis 7.0 does and every other command with +PONG; after `restart()` its
    old connections look idle and healthy but reset (RST) as soon as they are used, as a backend
    restarted behind a proxy."""

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
                if line.startswith(b"*"):  # one reply per command (RESP array of bulk strings)
                    command = await read_command(reader, line)
                    if writer in self.stale:
                        self._reset(writer)
                        break
                    if command[0].upper() == b"HELLO":
                        protocol = int(command[1]) if len(command) > 1 else 2
                        writer.write(hello_reply(protocol, len(self.writers)))
                    else:
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


@pytest.mark.parametrize("protocol", [None, 2, 3])
async def test_the_server_answers_a_client_s_handshake_as_redis_7(
    server: RestartableServer, protocol: int | None
) -> None:
    # None: redis-py's default, as the studio's client (RESP2 before 8.0, no HELLO; RESP3 since)
    asked = {} if protocol is None else {"protocol": protocol}
    client = Redis(port=server.port, retry=Retry(NoBackoff(), 0), **asked)
    try:
        assert await client.ping() is True
        connection = client.connection_pool._available_connections[0]
        # the protocol asked for, not a fallback to RESP2 (redis-py 8.2 falls back on an error)
        assert int(connection.protocol or 2) == (protocol or DEFAULT_RESP_VERSION)
    finally:
        await client.aclose()


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
