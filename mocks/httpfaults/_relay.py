"""One client connection through a route: requests go up and responses come down as their
bytes arrive; a rule that hits a request acts on it on the way."""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import socket
import struct
import time
from collections import deque
from typing import TYPE_CHECKING

import httptools

from ._journal import Exchange
from ._rules import Rule

if TYPE_CHECKING:
    from ._routes import Route

READ = 64 * 1024
BODY_LIMIT = 1024 * 1024  # request body buffered for `body_contains`, at most
_RST = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a reset


class _Closed(Exception):
    """The connection ends here (a reset, a cut, a truncation): nothing more passes."""


class _RequestEvents:
    """httptools callbacks for the client's bytes."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    def on_message_begin(self) -> None:
        self.relay.begin_request()

    def on_url(self, url: bytes) -> None:
        self.relay.exchange.target += url.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        header = (name.decode("latin-1"), value.decode("latin-1"))
        self.relay.exchange.request_headers.append(header)

    def on_headers_complete(self) -> None:
        relay = self.relay
        relay.exchange.method = relay.request_parser.get_method().decode()
        relay.head_done = True

    def on_body(self, body: bytes) -> None:
        relay = self.relay
        relay.exchange.keep_request_body(body)
        if not relay.decided and len(relay.body) < BODY_LIMIT:  # for `body_contains`
            relay.body += body

    def on_message_complete(self) -> None:
        self.relay.request_done = True


class _ResponseEvents:
    """httptools callbacks for the backend's bytes: the body goes to the exchange's journal
    entry, and is kept piece by piece only when a rule reshapes it (`collect`)."""

    def __init__(self, exchange: Exchange, collect: bool) -> None:
        self.exchange, self.collect = exchange, collect
        self.reason = b""
        self.headers: list[tuple[str, str]] = []
        self.head_done = False
        self.pieces: list[bytes] = []
        self.done = False

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.head_done = True

    def on_body(self, body: bytes) -> None:
        self.exchange.keep_response_body(body)
        if self.collect:
            self.pieces.append(bytes(body))

    def on_message_complete(self) -> None:
        self.done = True


class _SseEvents:
    """Where server-sent events end in a body (a blank line ends one; CRs are ignored)."""

    def __init__(self) -> None:
        self.newlines = 0
        self.count = 0

    def ends(self, data: bytes) -> list[int]:
        found = []
        for index, byte in enumerate(data):
            if byte == 10:
                self.newlines += 1
                if self.newlines == 2:
                    self.count += 1
                    self.newlines = 0
                    found.append(index + 1)
            elif byte != 13:
                self.newlines = 0
        return found


class _WebSocketMessages:
    """Where WebSocket messages end in a byte stream (RFC 6455 framing; control frames do not
    count)."""

    def __init__(self) -> None:
        self.head = b""
        self.remaining = 0
        self.final = False
        self.count = 0

    def _header_size(self) -> int:
        if len(self.head) < 2:
            return 2
        length = self.head[1] & 0x7F
        extended = 2 if length == 126 else 8 if length == 127 else 0
        return 2 + extended + (4 if self.head[1] & 0x80 else 0)

    def ends(self, data: bytes) -> list[int]:
        found, index, size = [], 0, len(data)
        while index < size:
            if self.remaining:
                taken = min(self.remaining, size - index)
                index += taken
                self.remaining -= taken
                if not self.remaining and self.final:
                    self.count += 1
                    found.append(index)
                continue
            need = self._header_size()
            taken = min(need - len(self.head), size - index)
            self.head += data[index : index + taken]
            index += taken
            if len(self.head) < need or self._header_size() > len(self.head):
                continue
            first, length = self.head[0], self.head[1] & 0x7F
            if length == 126:
                length = int.from_bytes(self.head[2:4], "big")
            elif length == 127:
                length = int.from_bytes(self.head[2:10], "big")
            self.final = bool(first & 0x80) and (first & 0x0F) < 8
            self.remaining, self.head = length, b""
            if not length and self.final:
                self.count += 1
                found.append(index)
        return found


class Relay:
    """A client connection and its own connection to the backend."""

    def __init__(
        self, route: Route, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.route = route
        self.client_reader, self.client_writer = reader, writer
        self.awaiting: deque[tuple[Exchange, Rule | None]] = deque()  # forwarded, unanswered
        self.request_parser = httptools.HttpRequestParser(_RequestEvents(self))
        self.exchange = Exchange()
        self.rule: Rule | None = None
        self.head_done = self.request_done = self.decided = False
        self.answer_here = False
        self.pending = bytearray()
        self.body = bytearray()
        self.tunnel = False  # after an upgrade (or bytes that are not HTTP): bytes as they come
        # a reshaped response's progress (reset at its head), and an upgraded one's messages
        self.sent = self.chunks = 0
        self.sse: _SseEvents | None = None
        self.messages = _WebSocketMessages()

    # -- the connection ------------------------------------------------------------------------
    async def run(self) -> None:
        host, port = self.route.upstream_address()
        try:
            self.upstream_reader, self.upstream_writer = await asyncio.open_connection(host, port)
        except OSError:
            self._reset(self.client_writer)
            return
        responses = asyncio.create_task(self._responses())
        try:
            await self._requests()
            if self.upstream_writer.can_write_eof():
                self.upstream_writer.write_eof()
            await responses
        except (_Closed, ConnectionError, OSError):
            pass
        finally:
            responses.cancel()
            for writer in (self.client_writer, self.upstream_writer):
                writer.close()
            for exchange, _ in self.awaiting:
                self._record(exchange, "closed")

    @staticmethod
    def _reset(writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        with contextlib.suppress(OSError):
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST)
        writer.transport.abort()

    def _record(self, exchange: Exchange, outcome: str) -> None:
        if exchange.ended is None:
            exchange.finish(outcome)
            self.route.journal.record(exchange)

    # -- client to backend ---------------------------------------------------------------------
    def begin_request(self) -> None:
        self.exchange = Exchange()
        self.rule = None
        self.head_done = self.request_done = self.decided = False
        self.answer_here = False
        self.body.clear()

    async def _requests(self) -> None:
        upstream = self.upstream_writer
        while data := await self.client_reader.read(READ):
            if self.tunnel:
                upstream.write(data)
                await _drained(upstream)
                continue
            upgraded = False
            try:
                self.request_parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                upgraded = True
            except httptools.HttpParserError:  # not HTTP: a plain relay from here on
                self.tunnel = True
                upstream.write(bytes(self.pending) + data)
                self.pending.clear()
                continue
            await self._advance(data)
            if upgraded:
                self.tunnel = True
            await _drained(upstream)

    async def _advance(self, data: bytes) -> None:
        if self.decided:
            if not self.answer_here:
                self.upstream_writer.write(data)
        else:
            self.pending += data
            if not self.head_done:
                return
            candidates = self.route.candidates(self.exchange)
            needs_body = any(rule.needs_body for rule in candidates)
            if needs_body and not self.request_done and len(self.body) < BODY_LIMIT:
                return  # decided once the body is in
            await self._decide(candidates)
        if self.request_done and self.answer_here:
            assert self.rule is not None
            self._answer(self.exchange, self.rule)

    async def _decide(self, candidates: list[Rule]) -> None:
        exchange = self.exchange
        rule = self.route.pick(candidates, exchange, bytes(self.body))
        self.decided, self.rule = True, rule
        if rule is not None:
            exchange.fault = rule.touched(rule.action)
            if rule.spec.hang:
                await rule.released.wait()
            if rule.spec.delay_ms is not None and rule.spec.delay_at == "headers":
                await asyncio.sleep(rule.delay())
            if rule.spec.status is not None:
                self.answer_here = True
                self.pending.clear()
                return
        self.awaiting.append((exchange, rule))
        self.upstream_writer.write(self.pending)
        self.pending = bytearray()

    def _answer(self, exchange: Exchange, rule: Rule) -> None:
        """Answer in the backend's place: the rule's status, headers and body."""
        spec = rule.spec
        assert spec.status is not None
        try:
            reason = http.HTTPStatus(spec.status).phrase
        except ValueError:
            reason = ""
        body = spec.body.encode()
        headers = dict(spec.headers)
        if not spec.body:
            error = {"message": f"{spec.status} {reason}", "type": "harness_fault", "rule": rule.id}
            body = json.dumps({"error": error}).encode()
            headers.setdefault("Content-Type", "application/json")
        headers["Content-Length"] = str(len(body))
        lines = [f"HTTP/1.1 {spec.status} {reason}", *(f"{k}: {v}" for k, v in headers.items())]
        self.client_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        exchange.status = spec.status
        exchange.response_headers = list(headers.items())
        exchange.keep_response_body(body)
        self._record(exchange, "answered")
        self.answer_here = False

    # -- backend to client ---------------------------------------------------------------------
    async def _responses(self) -> None:
        client = self.client_writer
        parser = None
        exchange, rule = Exchange(), None
        events = _ResponseEvents(exchange, False)
        while data := await self.upstream_reader.read(READ):
            if self.tunnel and parser is None and exchange.status == 101:
                await self._down_tunnel(data, exchange, rule)
                continue
            if parser is None:
                exchange, rule = self.awaiting[0] if self.awaiting else (Exchange(), None)
                reshaped = rule is not None and _reshapes(rule)
                events = _ResponseEvents(exchange, reshaped)
                parser = httptools.HttpResponseParser(events)
                head_sent = False
            body_at = None
            try:
                parser.feed_data(data)
            except httptools.HttpParserUpgrade as upgrade:
                body_at = upgrade.args[0]
            if events.head_done and exchange.status is None:
                exchange.status = parser.get_status_code()
                exchange.response_headers = events.headers
                exchange.first_byte = exchange.first_byte or time.time()
                if exchange.method == "HEAD":
                    events.done = True
            pieces, events.pieces = events.pieces, []
            if not reshaped or exchange.status == 101:
                if exchange.status == 101 and rule is not None and rule.spec.cut_after is not None:
                    at = body_at if body_at is not None else len(data)
                    client.write(data[:at])
                    self.tunnel = True
                    parser = None
                    await self._down_tunnel(data[at:], exchange, rule)
                    continue
                client.write(data)
            elif events.head_done:
                if not head_sent:
                    head_sent = True
                    await self._head(exchange, events, rule, parser)  # type: ignore[arg-type]
                await self._body(pieces, exchange, rule, events)  # type: ignore[arg-type]
            await _drained(client)
            if events.done:
                parser = None
                if exchange.status is not None and 100 <= exchange.status < 200:
                    if exchange.status == 101:
                        self.tunnel = True
                        continue
                    exchange.status = None  # informational: the real response follows
                    continue
                if reshaped and _chunked(exchange):
                    client.write(b"0\r\n\r\n")
                if self.awaiting:
                    self.awaiting.popleft()
                self._record(exchange, "complete")
        if self.tunnel and exchange.status == 101:
            self._record(exchange, "upgraded")
        client.close()

    async def _head(
        self,
        exchange: Exchange,
        events: _ResponseEvents,
        rule: Rule,
        parser: httptools.HttpResponseParser,
    ) -> None:
        if rule.spec.reset == "before_headers":
            self._cut(exchange, "reset", reset=True)
        version = parser.get_http_version()
        lines = [f"HTTP/{version} {exchange.status} {events.reason.decode('latin-1')}"]
        lines += [f"{name}: {value}" for name, value in events.headers]
        self.client_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if rule.spec.reset == "after_headers":
            await self.client_writer.drain()
            self._cut(exchange, "reset", reset=True)
        self.sent = 0
        self.sse = _SseEvents() if "text/event-stream" in (
            exchange.response_header("content-type") or "") else None  # fmt: skip
        self.chunks = 0

    async def _body(
        self, pieces: list[bytes], exchange: Exchange, rule: Rule, events: _ResponseEvents
    ) -> None:
        spec, client = rule.spec, self.client_writer
        chunked = _chunked(exchange)
        for piece in pieces:
            cut_at = None
            if spec.cut_after is not None:
                if self.sse is not None:
                    ends = self.sse.ends(piece)
                    over = self.sse.count - spec.cut_after
                    if over >= 0:
                        cut_at = ends[len(ends) - 1 - over] if over < len(ends) else 0
                else:
                    self.chunks += 1
                    if self.chunks > spec.cut_after:
                        cut_at = 0
            if spec.truncate is not None and self.sent + len(piece) >= spec.truncate:
                cut_at = spec.truncate - self.sent
            if cut_at is not None:
                piece = piece[:cut_at]
            if spec.corrupt:
                piece = rule.corrupt(piece)
            if spec.delay_ms is not None and spec.delay_at == "chunks":
                await asyncio.sleep(rule.delay())
            if piece:
                await self._send(piece, chunked, spec.body_rate)
            self.sent += len(piece)
            if cut_at is not None:
                await client.drain()
                self._cut(exchange, "cut" if spec.cut_after is not None else "truncated")

    async def _send(self, piece: bytes, chunked: bool, rate: float | None) -> None:
        client = self.client_writer
        step = len(piece) if rate is None else max(1, int(rate / 20))
        for start in range(0, len(piece), step):
            part = piece[start : start + step]
            client.write(b"%x\r\n%b\r\n" % (len(part), part) if chunked else part)
            if rate is not None:
                await client.drain()
                await asyncio.sleep(len(part) / rate)

    async def _down_tunnel(self, data: bytes, exchange: Exchange, rule: Rule | None) -> None:
        """An upgraded connection's bytes to the client; a `cut_after` rule counts WebSocket
        messages and closes the connection after the Nth."""
        client = self.client_writer
        if rule is None or rule.spec.cut_after is None:
            client.write(data)
            await client.drain()
            return
        counter = self.messages
        before = counter.count
        ends = counter.ends(data)
        if counter.count >= rule.spec.cut_after:
            index = rule.spec.cut_after - before - 1
            client.write(data[: ends[index]] if index >= 0 else b"")
            await client.drain()
            self._cut(exchange, "cut")
        client.write(data)
        await client.drain()

    def _cut(self, exchange: Exchange, outcome: str, reset: bool = False) -> None:
        if reset:
            self._reset(self.client_writer)
        else:
            self.client_writer.close()
        self.upstream_writer.close()
        if self.awaiting:
            self.awaiting.popleft()
        self._record(exchange, outcome)
        raise _Closed(outcome)


async def _drained(writer: asyncio.StreamWriter) -> None:
    """Wait for the peer only when the write buffer is past its high-water mark (an `await
    drain()` per chunk costs a trip through the loop even when nothing is queued)."""
    transport = writer.transport
    if transport.get_write_buffer_size() > transport.get_write_buffer_limits()[1]:
        await writer.drain()
    elif transport.is_closing():
        raise ConnectionResetError("the peer has gone")


def _reshapes(rule: Rule) -> bool:
    """Whether a rule changes the response's bytes (else they pass as they come)."""
    spec = rule.spec
    return bool(
        spec.reset
        or spec.truncate is not None
        or spec.corrupt
        or spec.body_rate
        or spec.cut_after is not None
        or (spec.delay_ms is not None and spec.delay_at == "chunks")
    )


def _chunked(exchange: Exchange) -> bool:
    return "chunked" in (exchange.response_header("transfer-encoding") or "").lower()
