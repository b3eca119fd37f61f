"""One route table per mock: rows of (method, path, handler), added in order to a router.

Every mock writes its HTTP (and WebSocket) handlers as module-level functions that read their
state from the request (`request.app.state`), lists them in one table, and builds its
router(s) here, so the order of the table is the order of matching.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, NamedTuple

from fastapi import APIRouter

WEBSOCKET = "WEBSOCKET"  # the method of a WebSocket route


class Route(NamedTuple):
    """One row of a route table."""

    method: str  # an HTTP method, or WEBSOCKET
    path: str
    handler: Callable[..., Any]
    status_code: int | None = None  # the status of a success when it is not 200


def route_table(
    routes: Sequence[Route], prefix: str = "", tags: list[str | Enum] | None = None
) -> APIRouter:
    """An APIRouter with the rows of `routes`, in order."""
    router = APIRouter(prefix=prefix, tags=tags)
    for route in routes:
        if route.method == WEBSOCKET:
            router.add_api_websocket_route(route.path, route.handler)
        else:
            router.add_api_route(
                route.path, route.handler, methods=[route.method], status_code=route.status_code
            )
    return router
