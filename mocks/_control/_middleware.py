"""Outermost ASGI middleware: journal every request, log JSON lines."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._journal import body_text
from ._namespace import namespace_of_scope
from ._plane import ControlPlane

CONTROL_PREFIX = "/__harness"


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


class ControlMiddleware:
    """Journal + logging in front of a mock's ASGI app."""

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
            self._log(ns, method, path, status_box[0], started)
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

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": more}
            return await receive()

        try:
            await self.app(scope, replay, self._status_spy(send, None, entry))
        finally:
            self._log(ns, method, path, entry["status"], started)

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
            await self.app(scope, receive, spy)
        finally:
            self._log(ns, "WEBSOCKET", path, entry["status"], started)

    def _log(self, ns: str, method: str, path: str, status: int | None, started: float) -> None:
        self.plane.log(
            ns=ns,
            method=method,
            path=path,
            status=status,
            ms=round((time.perf_counter() - started) * 1000, 3),
        )
