"""A small HTTP backend for the layer's tests: JSON, an echo, SSE with resume, chunked and large
bodies, and a WebSocket (`python -m uvicorn tests.unit.httpfaults._backend:app`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

SEEN: list[str] = []


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def echo(request: Request) -> Response:
    body = await request.body()
    SEEN.append(f"{request.method} {request.url.path}")
    seen = len(SEEN)
    return JSONResponse(
        {"method": request.method, "path": request.url.path, "body": body.decode(), "seen": seen}
    )


async def sse(request: Request) -> Response:
    """`n` events with ids 1..n; a `Last-Event-ID` resumes after that id."""
    count = int(request.query_params.get("n", "5"))
    start = int(request.headers.get("last-event-id", "0")) + 1

    async def events() -> AsyncIterator[bytes]:
        for number in range(start, count + 1):
            yield f"id: {number}\ndata: event {number}\n\n".encode()
            await asyncio.sleep(0.01)

    return StreamingResponse(events(), media_type="text/event-stream")


async def chunks(request: Request) -> Response:
    count = int(request.query_params.get("n", "5"))

    async def pieces() -> AsyncIterator[bytes]:
        for number in range(count):
            yield f"chunk {number};".encode()
            await asyncio.sleep(0.01)

    return StreamingResponse(pieces(), media_type="text/plain")


async def big(request: Request) -> Response:
    size = int(request.query_params.get("kb", "256")) * 1024
    return Response(bytes(range(256)) * (size // 256), media_type="application/octet-stream")


async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    count = int(websocket.query_params.get("n", "5"))
    for number in range(count):
        await websocket.send_text(f"message {number}")
    # the client closes: uvicorn 0.29 (the floor) can drop sent messages behind its own close
    await websocket.receive()


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/echo", echo, methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/v1/chat/completions", echo, methods=["POST"]),
        Route("/sse", sse),
        Route("/chunks", chunks),
        Route("/big", big),
        WebSocketRoute("/ws", socket),
    ]
)
