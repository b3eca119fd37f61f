"""The /__harness/* control routes: module-level handlers on the app's control plane, one table."""

from __future__ import annotations

import re
from typing import Any

from fastapi import HTTPException, Query, Request
from starlette.requests import HTTPConnection

from ._namespace import namespace_of
from ._plane import ControlPlane
from ._table import Route

PREFIX = "/__harness"


def plane_of(conn: HTTPConnection) -> ControlPlane:
    """The app's control plane (`install_control` puts it on the app's state)."""
    plane: ControlPlane = conn.app.state.harness_control
    return plane


async def health(request: Request) -> dict[str, Any]:
    return {"status": "ok", "service": plane_of(request).service}


async def requests(
    request: Request,
    path: str | None = None,
    method: str | None = None,
    path_regex: str | None = None,
    limit: int | None = Query(default=None, ge=1),
) -> list[dict[str, Any]]:
    try:
        rx = re.compile(path_regex) if path_regex else None
    except re.error as exc:
        raise HTTPException(400, f"bad path_regex: {exc}") from exc
    entries = plane_of(request).state(namespace_of(request)).journal.query(path, method, rx)
    return entries[-limit:] if limit else entries


async def clear_requests(request: Request) -> dict[str, int]:
    return {"deleted": plane_of(request).state(namespace_of(request)).journal.clear()}


async def reset(request: Request, all: bool = False) -> dict[str, Any]:
    ns = None if all else namespace_of(request)
    await plane_of(request).reset(ns)
    return {"reset": ns if ns is not None else "*"}


async def get_flags(request: Request) -> dict[str, Any]:
    return plane_of(request).flags(namespace_of(request))


async def set_flags(values: dict[str, Any], request: Request) -> dict[str, Any]:
    flags = plane_of(request).flags(namespace_of(request))
    for key, value in values.items():
        if value is None:
            flags.pop(key, None)
        else:
            flags[key] = value
    return flags


ROUTES: tuple[Route, ...] = (  # in the order of matching
    Route("GET", PREFIX + "/health", health),
    Route("GET", PREFIX + "/requests", requests),
    Route("DELETE", PREFIX + "/requests", clear_requests),
    Route("POST", PREFIX + "/reset", reset),
    Route("GET", PREFIX + "/flags", get_flags),
    Route("POST", PREFIX + "/flags", set_flags),
)
