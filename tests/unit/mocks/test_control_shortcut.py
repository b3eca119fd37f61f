"""Root-mount shortcut and log lines of the control plane, in process (no server)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mocks._control import ControlPlane, install_control
from mocks._control._shortcut import RootMountShortcut

H = "X-Harness-Namespace"


class Passthrough:
    """User middleware that does nothing (it rules the shortcut out)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def build(user_middleware: bool = False) -> FastAPI:
    """Outer FastAPI (control plane, GET /own) with a Starlette app mounted at ""."""

    async def seen(request: Request) -> JSONResponse:
        scope = request.scope
        return JSONResponse(
            {
                "path": scope["path"],
                "root_path": scope["root_path"],
                "app_root_path": scope.get("app_root_path"),
                "path_params": scope["path_params"],
                "outer_router": scope["router"] is app.router,
                "method": request.method,
            }
        )

    inner = Starlette(routes=[Route("/{rest:path}", seen, methods=["GET", "POST"])])
    app = FastAPI()
    install_control(app, service="shortcut", seed=1)

    @app.get("/own")
    async def own() -> dict[str, str]:
        return {"served_by": "outer"}

    if user_middleware:
        app.add_middleware(Passthrough)
    app.mount("", inner)
    return app


def calls(app: FastAPI) -> list[tuple[int, Any]]:
    """The same requests for every app: mounted paths, own route, method mismatch, faults."""

    async def run() -> list[tuple[int, Any]]:
        out: list[tuple[int, Any]] = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers={H: "sc"}
        ) as c:
            for method, path in [
                ("GET", "/a/b?q=1"),
                ("GET", "/own"),
                ("POST", "/own"),
                ("GET", "/own/"),
                ("GET", "/__harness/health"),
            ]:
                r = await c.request(method, path)
                out.append((r.status_code, r.json()))
            await c.post("/__harness/faults", json={"status": 503, "path": "^/a/", "times": 1})
            r = await c.get("/a/c")
            out.append((r.status_code, r.json()["error"]["type"]))
            journal = (await c.get("/__harness/requests")).json()
            out.append((0, [(e["method"], e["path"], e["status"]) for e in journal]))
        return out

    return asyncio.run(run())


def test_shortcut_serves_exactly_what_the_outer_router_serves() -> None:
    fast, plain = build(), build(user_middleware=True)
    assert isinstance(fast.build_middleware_stack().app, RootMountShortcut)
    assert not isinstance(plain.build_middleware_stack().app, RootMountShortcut)
    got = calls(fast)
    assert got == calls(plain)
    assert got[0] == (
        200,
        {
            "path": "/a/b",
            "root_path": "",
            "app_root_path": "",
            "path_params": {"rest": "a/b"},
            "outer_router": True,
            "method": "GET",
        },
    )
    assert got[1] == (200, {"served_by": "outer"})
    assert got[2][1]["method"] == "POST"  # a method the own route lacks falls to the mount
    assert got[5] == (503, "harness_fault")
    assert got[6][1][-1] == ("GET", "/a/c", 503)


def test_routes_added_later_are_left_to_the_router() -> None:
    async def late(_: Request) -> JSONResponse:
        return JSONResponse({"late": True})

    app = build()
    calls(app)  # builds and caches the middleware stack
    app.router.routes.insert(0, Route("/a/late", late))

    async def get() -> Any:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            return (await c.get("/a/late")).json()

    assert asyncio.run(get()) == {"late": True}


@pytest.mark.parametrize(
    ("ns", "method", "path", "status", "ms", "fault"),
    [
        ("default", "GET", "/gradio_api/app_id", 200, 0.123, None),
        ("n-1.x", "WEBSOCKET", '/q"uo\\te/é/\n', None, 12.0, "f7"),
        ("default", "POST", "/x", 0, 1e-05, "f1"),
    ],
)
def test_log_line_is_what_json_dumps_writes(
    capsys: pytest.CaptureFixture[str],
    ns: str,
    method: str,
    path: str,
    status: int | None,
    ms: float,
    fault: str | None,
) -> None:
    plane = ControlPlane("svc\u00e9", log=True)
    capsys.readouterr()
    plane.log(ns=ns, method=method, path=path, status=status, ms=ms, fault=fault)
    line = capsys.readouterr().out
    fields = json.loads(line)
    expected = {"ts": fields["ts"], "service": "svc\u00e9", "ns": ns, "method": method}
    expected |= {"path": path, "status": status, "ms": ms, "fault": fault}
    assert line == json.dumps(expected) + "\n"
