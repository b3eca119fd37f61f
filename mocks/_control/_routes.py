"""The /__harness/* control routes: module-level handlers on the app's control plane, one table."""

from __future__ import annotations

import re
from typing import Any

from fastapi import HTTPException, Query, Request
from starlette.requests import HTTPConnection

from ._faults import FaultSpec
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


async def add_fault(spec: FaultSpec, request: Request) -> dict[str, Any]:
    return plane_of(request).state(namespace_of(request)).faults.add(spec).as_dict()


async def list_faults(request: Request) -> list[dict[str, Any]]:
    return plane_of(request).state(namespace_of(request)).faults.list()


async def clear_faults(request: Request) -> dict[str, int]:
    return {"deleted": plane_of(request).state(namespace_of(request)).faults.clear()}


async def delete_fault(rule_id: str, request: Request) -> dict[str, str]:
    if not plane_of(request).state(namespace_of(request)).faults.remove(rule_id):
        raise HTTPException(404, f"no fault rule {rule_id}")
    return {"deleted": rule_id}


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
    Route("POST", PREFIX + "/faults", add_fault, status_code=201),
    Route("GET", PREFIX + "/faults", list_faults),
    Route("DELETE", PREFIX + "/faults", clear_faults),
    Route("DELETE", PREFIX + "/faults/{rule_id}", delete_fault),
    Route("GET", PREFIX + "/flags", get_flags),
    Route("POST", PREFIX + "/flags", set_flags),
)
