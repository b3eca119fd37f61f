"""A tiny echo service used to exercise the control plane (`python -m harness.mocks._control`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect

from ._install import install_control
from ._namespace import namespace_of
from ._plane import ControlPlane


def create_app(seed: int | None = None) -> FastAPI:
    """Echo app: /echo (any method), /items/{n}, /ws (text echo); counts resets per namespace."""
    app = FastAPI(title="harness-echo")
    counts: dict[str, Counter[str]] = {}
    resets: Counter[str] = Counter()

    def on_reset(ns: str | None) -> None:
        if ns is None:
            counts.clear()
            resets["*"] += 1
        else:
            counts.pop(ns, None)
            resets[ns] += 1

    control: ControlPlane = install_control(app, service="echo", on_reset=on_reset, seed=seed)

    @app.api_route("/echo", methods=["GET", "POST", "PUT", "DELETE"])
    async def echo(request: Request) -> dict[str, Any]:
        ns = namespace_of(request)
        counts.setdefault(ns, Counter())["echo"] += 1
        body = (await request.body()).decode("utf-8", errors="replace")
        return {"method": request.method, "query": str(request.url.query), "ns": ns, "body": body}

    @app.get("/items/{n}")
    async def item(n: int, request: Request) -> dict[str, Any]:
        ns = namespace_of(request)
        counts.setdefault(ns, Counter())["items"] += 1
        return {"item": n, "ns": ns}

    @app.get("/state")
    async def state(request: Request) -> dict[str, Any]:
        ns = namespace_of(request)
        return {"counts": dict(counts.get(ns, Counter())), "resets": dict(resets)}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(await websocket.receive_text())
        except WebSocketDisconnect:
            return

    app.state.control = control
    return app
