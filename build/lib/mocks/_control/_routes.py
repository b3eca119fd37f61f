"""The /__harness/* control routes."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from ._faults import FaultSpec
from ._namespace import namespace_of
from ._plane import ControlPlane


def build_router(plane: ControlPlane) -> APIRouter:
    """Routes that read and change the caller's namespace of `plane`."""
    router = APIRouter(prefix="/__harness", tags=["harness"])

    @router.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "service": plane.service}

    @router.get("/requests")
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
        entries = plane.state(namespace_of(request)).journal.query(path, method, rx)
        return entries[-limit:] if limit else entries

    @router.delete("/requests")
    async def clear_requests(request: Request) -> dict[str, int]:
        return {"deleted": plane.state(namespace_of(request)).journal.clear()}

    @router.post("/reset")
    async def reset(request: Request, all: bool = False) -> dict[str, Any]:
        ns = None if all else namespace_of(request)
        await plane.reset(ns)
        return {"reset": ns if ns is not None else "*"}

    @router.post("/faults", status_code=201)
    async def add_fault(spec: FaultSpec, request: Request) -> dict[str, Any]:
        return plane.state(namespace_of(request)).faults.add(spec).as_dict()

    @router.get("/faults")
    async def list_faults(request: Request) -> list[dict[str, Any]]:
        return plane.state(namespace_of(request)).faults.list()

    @router.delete("/faults")
    async def clear_faults(request: Request) -> dict[str, int]:
        return {"deleted": plane.state(namespace_of(request)).faults.clear()}

    @router.delete("/faults/{rule_id}")
    async def delete_fault(rule_id: str, request: Request) -> dict[str, str]:
        if not plane.state(namespace_of(request)).faults.remove(rule_id):
            raise HTTPException(404, f"no fault rule {rule_id}")
        return {"deleted": rule_id}

    @router.get("/flags")
    async def get_flags(request: Request) -> dict[str, Any]:
        return plane.flags(namespace_of(request))

    @router.post("/flags")
    async def set_flags(values: dict[str, Any], request: Request) -> dict[str, Any]:
        flags = plane.flags(namespace_of(request))
        for key, value in values.items():
            if value is None:
                flags.pop(key, None)
            else:
                flags[key] = value
        return flags

    return router
