"""One direction of a proxied connection: source socket -> toxic chain -> destination socket.

Like upstream's ToxicLink/ToxicStub: every chunk read from the source passes through the
*current* chain of toxics of this direction (toxics added or removed while the connection is
open take effect on the next chunk). With no toxics (and nothing in flight) a chunk goes from
the source's `data_received` straight into the destination transport: no queue, no task
switch, no per-chunk objects. Flow control pauses the source while the destination's buffer
is above its high-water mark or the toxic queue is full.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ._endpoint import Endpoint, set_linger_zero
from ._toxic import Chunk, Stub, ToxicWrapper

QUEUE_CHUNKS = 1024  # upstream's latency toxic buffers 1024 chunks

UPSTREAM = "upstream"
DOWNSTREAM = "downstream"


class Link:
    """Pumps one direction of a connection through that direction's toxics."""

    def __init__(
        self,
        direction: str,
        source: Endpoint,
        dest: Endpoint,
        wrappers: list[ToxicWrapper],
        rng: random.Random,
        on_closed: Callable[[Link], None],
    ) -> None:
        assert source.transport is not None and dest.transport is not None
        self.direction = direction
        self.rng = rng
        self.stubs: list[Stub] = []
        self._source = source.transport
        self._dest = dest.transport
        self._on_closed = on_closed
        self._queue: deque[Chunk | None] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._processor: asyncio.Task[None] | None = None
        self._inflight = 0
        self._dest_paused = False
        self._queue_full = False
        self._source_paused = False
        self._eof = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self.out_closed = False
        source.reading = self
        dest.writing = self
        if any(w.toxic.resets_peer for w in wrappers):
            # Upstream sets SO_LINGER 0 when the link starts with a reset_peer toxic.
            set_linger_zero(self._source)
            set_linger_zero(self._dest)
        for wrapper in wrappers:
            self.attach(wrapper)
        early, source.early = source.early, []
        for data in early:
            self.feed(data)
        if source.ended:
            self.feed_eof()

    # -- chain changes (called by the toxic collection) ------------------------------------
    def attach(self, wrapper: ToxicWrapper) -> None:
        """Append a toxic to this link; toxicity is rolled once, now."""
        active = self.rng.random() < wrapper.toxicity
        stub = Stub(wrapper, self, len(self.stubs), active)
        self.stubs.append(stub)
        if active:
            wrapper.toxic.start(stub)

    def stub_for(self, wrapper: ToxicWrapper) -> Stub | None:
        """This link's stub of `wrapper`, if any."""
        for stub in self.stubs:
            if stub.wrapper is wrapper:
                return stub
        return None

    def update(self, wrapper: ToxicWrapper) -> None:
        """Attributes or toxicity changed: re-roll and restart the toxic on this link."""
        stub = self.stub_for(wrapper)
        if stub is None:
            return
        wrapper.toxic.stop(stub)
        stub.interrupt()
        stub.active = self.rng.random() < wrapper.toxicity
        if stub.active:
            wrapper.toxic.start(stub)

    def detach(self, wrapper: ToxicWrapper) -> None:
        """Remove a toxic; its in-flight data continues down the chain."""
        stub = self.stub_for(wrapper)
        if stub is None:
            return
        wrapper.toxic.stop(stub)
        stub.removed = True
        self.stubs.remove(stub)
        for index, other in enumerate(self.stubs):
            other.index = index
        stub.interrupt()
        wrapper.toxic.cleanup(stub)

    # -- data path ---------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """A chunk from the source (called from the source's `data_received`)."""
        if self.stubs or self._inflight:
            self._push(Chunk(data, time.monotonic()))
        elif not self.out_closed:
            self._dest.write(data)

    def feed_eof(self) -> None:
        """The source ended (EOF, error or closed)."""
        if self._eof:
            return
        self._eof = True
        if self.stubs or self._inflight:
            self._push(None)
        else:
            self.close_output()

    def _push(self, item: Chunk | None) -> None:
        self._inflight += 1
        self._queue.append(item)
        if self._processor is None:
            self._processor = asyncio.ensure_future(self._process())
            self._tasks.add(self._processor)
            self._processor.add_done_callback(self._tasks.discard)
        elif self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)
        if len(self._queue) >= QUEUE_CHUNKS and not self._queue_full:
            self._queue_full = True
            self._update_reading()

    async def _process(self) -> None:
        queue = self._queue
        loop = asyncio.get_running_loop()
        while True:
            if not queue:
                self._wakeup = loop.create_future()
                await self._wakeup
                self._wakeup = None
                continue
            item = queue.popleft()
            if self._queue_full and len(queue) < QUEUE_CHUNKS // 2:
                self._queue_full = False
                self._update_reading()
            try:
                if item is None:
                    await self.enter_eof(0)
                    return
                await self.enter(0, item)
            finally:
                self._inflight -= 1

    async def enter(self, index: int, chunk: Chunk) -> None:
        """Run `chunk` through the chain from position `index`."""
        stubs = self.stubs
        while index < len(stubs):
            stub = stubs[index]
            if stub.closed:
                return  # upstream: nothing reads a closed stub's input any more
            if stub.active:
                await stub.wrapper.toxic.pipe(chunk, stub)
                return
            index += 1
        await self._write(chunk.data)

    async def enter_eof(self, index: int) -> None:
        """Propagate end of stream from position `index`; finally close the destination."""
        stubs = self.stubs
        while index < len(stubs):
            stub = stubs[index]
            if stub.closed:
                return
            if stub.active:
                await stub.wrapper.toxic.on_eof(stub)
                return
            index += 1
        self.close_output()

    async def _write(self, data: bytes) -> None:
        if self.out_closed or not data:
            return
        self._dest.write(data)
        if self._dest_paused and not self.out_closed:
            self._drained = asyncio.get_running_loop().create_future()
            await self._drained

    def set_dest_paused(self, paused: bool) -> None:
        """Flow control from the destination's protocol."""
        self._dest_paused = paused
        if not paused and self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._update_reading()

    def _update_reading(self) -> None:
        pause = self._dest_paused or self._queue_full
        if pause == self._source_paused or self._source.is_closing():
            return
        self._source_paused = pause
        if pause:
            self._source.pause_reading()
        else:
            self._source.resume_reading()

    def destination_lost(self) -> None:
        """The destination socket is gone: stop writing, release waiters."""
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        if not self.out_closed:
            self.out_closed = True
            self._on_closed(self)

    def close_output(self) -> None:
        """Close the destination (flushing what was written); the peer link then sees EOF."""
        if self.out_closed:
            return
        self.out_closed = True
        self._dest.close()
        self._on_closed(self)

    # -- lifecycle ---------------------------------------------------------------------
    def spawn(self, coro: Any) -> None:
        """Run a coroutine as a task owned by this link (cancelled by `kill`)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def kill(self) -> None:
        """Drop the link at once: abort the destination, cancel timers and tasks."""
        for stub in self.stubs:
            stub.wrapper.toxic.stop(stub)
            stub.interrupt()
        for task in list(self._tasks):
            task.cancel()
        if not self.out_closed:
            self.out_closed = True
            self._dest.abort()
            self._on_closed(self)
