"""create_app(): the ComfyUI mock as a FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from .._control import install_control, route_table
from ._routes import INTERNAL, ROUTES, Json, server_error
from ._state import Config, Hub

# middleware/cache_middleware.py cache_control (v0.3.77)
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
ONE_DAY = 86400


def create_app(config: Config) -> FastAPI:
    """ComfyUI mock with the harness control plane; every route also under /api."""
    app = FastAPI(title="ComfyUI mock", docs_url=None, redoc_url=None, openapi_url=None)
    hub = Hub(config)
    app.state.hub = hub
    install_control(app, service="comfyui", on_reset=hub.reset, seed=config.seed)
    app.include_router(route_table(ROUTES), default_response_class=Json)
    app.add_exception_handler(StarletteHTTPException, unrouted)
    app.add_exception_handler(Exception, raised)
    return app


async def raised(request: Request, exc: Exception) -> Response:
    """A handler that raised: aiohttp's 500 (`server_error`)."""
    return server_error(request)


async def unrouted(request: Request, exc: Exception) -> Response:
    """A request no route takes, as the release's aiohttp router answers it (server.py
    v0.3.77 adds `web.static('/', web_root)` last, the frontend's folder, which takes every
    GET and HEAD; `/internal` is a sub-app of its own).

    - OPTIONS: 200, empty (server.py create_origin_only_middleware answers it first);
    - under /internal: the sub-app's 404, text "404: Not Found";
    - GET, HEAD: the static route's FileResponse for a missing file: 404 with
      `application/octet-stream` and an empty chunked body (HEAD: no headers), with the
      Cache-Control that cache_control adds to what it sees as a 200 (no-cache for .js,
      .css and index*.json, a day for images);
    - any other method: 405 "405: Method Not Allowed", Allow the sorted methods of the
      path's routes (GET brings HEAD) and the static route's GET,HEAD.
    """
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code not in (404, 405):
        return PlainTextResponse(f"{exc.status_code}: {exc.detail}", status_code=exc.status_code)
    method, path = request.method, request.url.path
    if method == "OPTIONS":
        return Response(status_code=200)
    if path == INTERNAL or path.startswith(INTERNAL + "/"):
        return PlainTextResponse("404: Not Found", status_code=404)
    if method in ("GET", "HEAD"):
        headers = {}
        name = path.rsplit("/", 1)[-1]
        if path.endswith((".js", ".css")) or (name.startswith("index") and name.endswith(".json")):
            headers["Cache-Control"] = "no-cache"
        elif path.lower().endswith(IMG_EXTENSIONS):
            headers["Cache-Control"] = f"public, max-age={ONE_DAY}"
        if method == "HEAD":
            return _bare(404, headers)
        return StreamingResponse(
            iter(()), status_code=404, media_type="application/octet-stream", headers=headers
        )
    allowed = {"GET", "HEAD"}
    for route in request.app.router.routes:
        if route.matches(request.scope)[0] != Match.NONE:
            methods = set(getattr(route, "methods", None) or ())
            allowed |= methods | ({"HEAD"} if "GET" in methods else set())
    return PlainTextResponse(
        "405: Method Not Allowed", status_code=405, headers={"Allow": ",".join(sorted(allowed))}
    )


class _bare(Response):
    """A response with no Content-Length (nor Content-Type)."""

    def __init__(self, status_code: int, headers: dict[str, str]) -> None:
        super().__init__(status_code=status_code, headers=headers)
        self.raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
