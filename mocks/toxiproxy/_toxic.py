"""The toxic interface (upstream's toxics/toxic.go): a toxic type, its per-connection stub,
the chunks it handles, the wrapper a proxy keeps of it, and the registry of types.

Each toxic type is a small class (`_toxics`) that registers itself here under its type name;
this module imports none of them, nor the link that drives the stubs (`Chain` is what a stub
needs of it).
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, ClassVar, Protocol

from ._decode import Field, Struct
from ._gojson import Float32

TOXIC_TYPES: dict[str, type[Toxic]] = {}


class Chain(Protocol):
    """What a stub needs of the link it sits on (`_link.Link`): the chain of one direction."""

    rng: random.Random

    async def enter(self, index: int, chunk: Chunk) -> None:
        """Run `chunk` through the chain from position `index`."""

    async def enter_eof(self, index: int) -> None:
        """Propagate end of stream from position `index`."""

    def spawn(self, coro: Any) -> None:
        """Run a coroutine as a task owned by the link."""


def register(cls: type[Toxic]) -> type[Toxic]:
    """Class decorator: make a toxic type available under `cls.type_name`."""
    TOXIC_TYPES[cls.type_name] = cls
    return cls


class Toxic:
    """Base toxic: passes data through unchanged (upstream's NoopToxic).

    A toxic instance holds the attributes; per-connection state lives on the `Stub`.
    """

    type_name: ClassVar[str] = "noop"
    go_name: ClassVar[str] = "NoopToxic"
    fields: ClassVar[tuple[tuple[str, str], ...]] = ()  # (json name, Go type)
    # upstream sets SO_LINGER 0 on a link that starts with a toxic of this type (reset_peer)
    resets_peer: ClassVar[bool] = False

    def __init__(self) -> None:
        self.values: dict[str, int] = {name: 0 for name, _ in self.fields}

    @classmethod
    def struct(cls) -> Struct:
        """The Go struct its attributes decode into (`toxics.<GoName>`)."""
        fields = tuple(Field(name, go_type) for name, go_type in cls.fields)
        return Struct(cls.go_name, f"toxics.{cls.go_name}", fields)

    def attributes(self) -> dict[str, int]:
        """The `attributes` object of the toxic's JSON."""
        return dict(self.values)

    def new_state(self) -> Any:
        """Per-connection state for a new stub."""
        return None

    def start(self, stub: Stub) -> None:
        """The toxic starts acting on a link (connection opened, toxic added or updated)."""

    def stop(self, stub: Stub) -> None:
        """The toxic stops acting on a link (updated, removed or connection dropped)."""

    def cleanup(self, stub: Stub) -> None:
        """The toxic was removed from the proxy (upstream's CleanupToxic)."""

    async def pipe(self, chunk: Chunk, stub: Stub) -> None:
        """Handle one chunk; pass on whatever should reach the next stage."""
        await stub.forward(chunk)

    async def on_eof(self, stub: Stub) -> None:
        """The stream ended; pass the end on (closes the destination eventually)."""
        await stub.close()


class Chunk:
    """Data read from the source and the monotonic time it was read."""

    __slots__ = ("data", "ts")

    def __init__(self, data: bytes, ts: float) -> None:
        self.data = data
        self.ts = ts


class Stub:
    """Per-connection state of one toxic on one link (upstream's ToxicStub)."""

    __slots__ = ("_waiters", "active", "closed", "index", "link", "removed", "state", "wrapper")

    def __init__(self, wrapper: ToxicWrapper, link: Chain, index: int, active: bool) -> None:
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


class ToxicWrapper:
    """A toxic as configured on a proxy: name, type, stream, toxicity and attributes."""

    def __init__(
        self, name: str, type_name: str, stream: str, toxicity: Float32, toxic: Toxic
    ) -> None:
        self.name = name
        self.type = type_name
        self.stream = stream  # as given (upstream keeps the case the client sent)
        self.direction = stream.lower()
        self.toxicity = toxicity
        self.toxic = toxic

    def to_json(self) -> dict[str, Any]:
        """Upstream's ToxicWrapper JSON (same key order)."""
        return {
            "attributes": self.toxic.attributes(),
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
        }
