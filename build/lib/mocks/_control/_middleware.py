"""Outermost ASGI middleware: journal every request, apply fault rules, log JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._faults import FaultRule
from ._journal import body_text
from ._namespace import namespace_of_scope
from ._plane import ControlPlane

CONTROL_PREFIX = "/__harness"
_GARBAGE = b"<harness-garbage>"


class DroppedConnection(Exception):
    """Raised when a drop fault cannot close the socket directly (non-uvicorn servers)."""


def mangle(body: bytes) -> bytes:
    """Truncate a body to half and append ASCII garbage (never valid JSON, still UTF-8)."""
    return body[: len(body) // 2] + _GARBAGE


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


class ControlMiddleware:
    """Journal + faults + logging in front of a mock's ASGI app."""

    def __init__(self, app: ASGIApp, plane: ControlPlane) -> None:
        self.app = app
        self.plane = plane

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # -- HTTP ---------------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        ns = namespace_of_scope(scope)
        started = time.perf_counter()
        if path.startswith(CONTROL_PREFIX):
            status_box = [0]
            await self.app(scope, receive, self._status_spy(send, status_box, None))
            self._log(ns, method, path, status_box[0], started, None)
            return

        body, more = await self._read_body(receive)
        state = self.plane.state(ns)
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": _headers(scope),
            "body": body_text(body),
            "status": None,
            "time": time.time(),
        }
        state.journal.add(entry)
        rule = state.faults.pick(method, path, state.rng)
        if rule is not None:
            entry["fault"] = rule.id

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": more}
            return await receive()

        try:
            if rule is None:
                await self.app(scope, replay, self._status_spy(send, None, entry))
                return
            await self._apply(rule, scope, replay, receive, send, entry, state.rng)
        finally:
            self._log(ns, method, path, entry["status"], started, entry.get("fault"))

    async def _apply(
        self,
        rule: FaultRule,
        scope: Scope,
        replay: Receive,
        receive: Receive,
        send: Send,
        entry: dict[str, Any],
        rng: Any,
    ) -> None:
        spec = rule.spec
        delay = rule.delay_seconds(rng)
        if delay > 0:
            await asyncio.sleep(delay)
        if spec.drop:
            entry["status"] = 0
            await self._drop(receive, send)
            return
        if spec.status is not None:
            payload = {
                "error": {
                    "type": "harness_fault",
                    "message": f"injected status {spec.status}",
                    "rule": rule.id,
                }
            }
            data = json.dumps(payload).encode()
            if spec.malformed:
                data = mangle(data)
            entry["status"] = spec.status
            await send(
                {
                    "type": "http.response.start",
                    "status": spec.status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(data)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": data})
            return
        target = self._status_spy(send, None, entry)
        if spec.malformed:
            target = self._malformer(target)
        await self.app(scope, replay, target)

    @staticmethod
    async def _read_body(receive: Receive) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), False
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks), False

    @staticmethod
    def _status_spy(send: Send, box: list[int] | None, entry: dict[str, Any] | None) -> Send:
        async def spy(message: Message) -> None:
            if message["type"] == "http.response.start":
                if box is not None:
                    box[0] = message["status"]
                if entry is not None:
                    entry["status"] = message["status"]
            await send(message)

        return spy

    @staticmethod
    def _malformer(send: Send) -> Send:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def malform(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            data = mangle(b"".join(chunks))
            headers = [
                (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
            ]
            headers.append((b"content-length", str(len(data)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": data})

        return malform

    @staticmethod
    async def _drop(receive: Receive, send: Send) -> None:
        """Close the client socket without any response bytes."""
        cycle = getattr(send, "__self__", None)
        transport = getattr(cycle, "transport", None)
        if transport is None:
            raise DroppedConnection("harness drop fault")
        transport.close()
        # Let the server notice the disconnect so it does not try to write a 500 afterwards.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(receive(), timeout=2.0)

    # -- WebSocket ----------------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        ns = namespace_of_scope(scope)
        started = time.perf_counter()
        state = self.plane.state(ns)
        entry: dict[str, Any] = {
            "method": "WEBSOCKET",
            "path": path,
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": _headers(scope),
            "body": "",
            "status": None,
            "time": time.time(),
        }
        state.journal.add(entry)
        rule = state.faults.pick("WEBSOCKET", path, state.rng)

        async def spy(message: Message) -> None:
            kind = message["type"]
            if kind == "websocket.accept":
                entry["status"] = 101
            elif kind == "websocket.close" and entry["status"] is None:
                entry["status"] = 403
            elif kind == "websocket.http.response.start":
                entry["status"] = message["status"]
            await send(message)

        try:
            if rule is not None:
                entry["fault"] = rule.id
                delay = rule.delay_seconds(state.rng)
                if delay > 0:
                    await asyncio.sleep(delay)
                if rule.spec.drop or rule.spec.status is not None:
                    await self._reject_websocket(rule, scope, receive, spy)
                    return
            await self.app(scope, receive, spy)
        finally:
            self._log(ns, "WEBSOCKET", path, entry["status"], started, entry.get("fault"))

    @staticmethod
    async def _reject_websocket(
        rule: FaultRule, scope: Scope, receive: Receive, send: Send
    ) -> None:
        await receive()  # websocket.connect
        status = rule.spec.status or 403
        if "websocket.http.response" in scope.get("extensions", {}) and not rule.spec.drop:
            data = json.dumps({"error": {"type": "harness_fault", "rule": rule.id}}).encode()
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "websocket.http.response.body", "body": data})
            return
        await send({"type": "websocket.close", "code": 1011})

    def _log(
        self, ns: str, method: str, path: str, status: int | None, started: float, fault: Any
    ) -> None:
        self.plane.log(
            ns=ns,
            method=method,
            path=path,
            status=status,
            ms=round((time.perf_counter() - started) * 1000, 3),
            fault=fault,
        )
