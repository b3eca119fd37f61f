"""Run the API server and the proxies in one event loop (uvloop when installed)."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import uvicorn

from ._api import create_app
from ._collection import PopulateError, ProxyCollection
from ._log import emit


async def populate_config(collection: ProxyCollection, path: str) -> None:
    """Upstream's `-config FILE`: populate at start-up, log (not fail) on errors."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        emit("config_error", config=path, error=str(exc))
        return
    try:
        proxies = await collection.populate(raw)
    except PopulateError as exc:
        emit("config_error", config=path, error=exc.error.message)
        return
    emit("populated", config=path, proxies=len(proxies))


def bind_api_socket(host: str, port: int) -> socket.socket:
    """Bind the API listener ourselves so `--port 0` can report the real port."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    family, _, _, _, sockaddr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(sockaddr)
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


async def serve(host: str, port: int, config: str | None, seed: int, version: str) -> None:
    """Serve the HTTP API on host:port until SIGINT/SIGTERM, with proxies in the same loop."""
    collection = ProxyCollection(random.Random(seed))
    app = create_app(collection, version)
    if config:
        await populate_config(collection, config)
    sock = bind_api_socket(host, port)
    emit("listening", host=host, port=sock.getsockname()[1], seed=seed, version=version)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,  # Go's net/http sends no Server header
            http="h11",  # like net/http, takes any method token (`get` gets 405, not 400)
        )
    )
    try:
        await server.serve(sockets=[sock])
    finally:
        await collection.close()


def run(main: Coroutine[Any, Any, None]) -> None:
    """Run `main` on uvloop if it is installed, else on asyncio's default loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)
