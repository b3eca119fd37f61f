"""The asyncio protocol of one socket of a proxied connection, and socket options."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable
from typing import Protocol, cast

WRITE_HIGH_WATER = 1024 * 1024  # pause the source while the destination has this much unsent


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """TCP_NODELAY on the transport's socket (Go's default)."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def set_linger_zero(transport: asyncio.BaseTransport) -> None:
    """SO_LINGER 0: closing sends a TCP RST instead of a FIN."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class Flow(Protocol):
    """What an endpoint needs of a link reading from it or writing to it (`_link.Link`)."""

    def feed(self, data: bytes) -> None:
        """A chunk from the link's source."""

    def feed_eof(self) -> None:
        """The link's source ended."""

    def destination_lost(self) -> None:
        """The link's destination socket is gone."""

    def set_dest_paused(self, paused: bool) -> None:
        """Flow control from the link's destination."""


class Endpoint(asyncio.Protocol):
    """Protocol of one socket of a connection: feeds the link reading it, flow-controls the
    link writing to it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.reading: Flow | None = None  # the link whose source is this socket
        self.writing: Flow | None = None  # the link whose destination is this socket
        self.lost = False
        self.ended = False
        self.early: list[bytes] = []  # data that arrived before the link existed
        self.on_made: Callable[[Endpoint], None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Remember the transport; TCP_NODELAY; hand over to whoever waits for it."""
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        set_nodelay(transport)
        self.transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        if self.on_made is not None:
            self.on_made(self)

    def data_received(self, data: bytes) -> None:
        """Chunk from this socket: into the reading link (kept until there is one)."""
        if self.reading is not None:
            self.reading.feed(data)
        else:
            self.early.append(data)

    def eof_received(self) -> bool:
        """Peer half-closed: end of the reading link's stream; keep writing possible."""
        self.ended = True
        if self.reading is not None:
            self.reading.feed_eof()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        """Socket gone: end both links' use of it."""
        self.lost = True
        self.ended = True
        if self.reading is not None:
            self.reading.feed_eof()
        if self.writing is not None:
            self.writing.destination_lost()

    def pause_writing(self) -> None:
        """Destination buffer full: stop reading the writing link's source."""
        if self.writing is not None:
            self.writing.set_dest_paused(True)

    def resume_writing(self) -> None:
        """Destination drained: read again."""
        if self.writing is not None:
            self.writing.set_dest_paused(False)
