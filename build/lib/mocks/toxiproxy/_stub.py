"""Per-connection state of one toxic (upstream's ToxicStub) and the chunks it handles."""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._link import Link
    from ._toxics import ToxicWrapper


class Chunk:
    """Data read from the source and the monotonic time it was read."""

    __slots__ = ("data", "ts")

    def __init__(self, data: bytes, ts: float) -> None:
        self.data = data
        self.ts = ts


class Stub:
    """Per-connection state of one toxic on one link (upstream's ToxicStub)."""

    __slots__ = ("_waiters", "active", "closed", "index", "link", "removed", "state", "wrapper")

    def __init__(self, wrapper: ToxicWrapper, link: Link, index: int, active: bool) -> None:
        self.wrapper = wrapper
        self.link = link
        self.index = index
        self.active = active  # toxicity rolled once for this connection
        self.state: Any = wrapper.toxic.new_state()
        self.closed = False
        self.removed = False
        self._waiters: set[asyncio.Future[bool]] = set()

    @property
    def rng(self) -> random.Random:
        """The server's seeded random source."""
        return self.link.rng

    def _next(self) -> int:
        # A removed stub's successor has taken over its index.
        return self.index if self.removed else self.index + 1

    async def forward(self, chunk: Chunk) -> None:
        """Pass a chunk on to the next toxic (or the destination)."""
        await self.link.enter(self._next(), chunk)

    async def forward_eof(self) -> None:
        """Pass the end of the stream on."""
        await self.link.enter_eof(self._next())

    async def close(self) -> None:
        """Close this stub's output: later stages see EOF, the destination gets closed."""
        if self.closed:
            return
        self.closed = True
        await self.link.enter_eof(self._next())

    def close_soon(self) -> None:
        """`close()` from a synchronous context (timers, cleanup)."""
        self.link.spawn(self.close())

    async def sleep(self, seconds: float) -> bool:
        """Wait `seconds`; return True early if the toxic was updated or removed."""
        if seconds <= 0:
            return False
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiters.add(waiter)
        handle = loop.call_later(seconds, _resolve, waiter, False)
        try:
            return await waiter
        finally:
            handle.cancel()
            self._waiters.discard(waiter)

    def interrupt(self) -> None:
        """Wake every sleep of this stub (upstream's InterruptToxic)."""
        for waiter in list(self._waiters):
            _resolve(waiter, True)


def _resolve(waiter: asyncio.Future[bool], value: bool) -> None:
    if not waiter.done():
        waiter.set_result(value)
