"""create_app(): the ComfyUI mock as a FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._control import install_control, route_table
from ._routes import ROUTES
from ._state import Config, Hub


def create_app(config: Config) -> FastAPI:
    """ComfyUI mock with the harness control plane; every route also under /api."""
    app = FastAPI(title="ComfyUI mock", docs_url=None, redoc_url=None, openapi_url=None)
    hub = Hub(config)
    app.state.hub = hub
    install_control(app, service="comfyui", on_reset=hub.reset, seed=config.seed)
    app.include_router(route_table(ROUTES))

    @app.exception_handler(StarletteHTTPException)
    async def bare_error(request: Request, exc: StarletteHTTPException) -> Response:
        """ComfyUI (aiohttp) answers an unknown route 404 with an empty body."""
        if exc.status_code == 404:
            return Response(status_code=404)
        return await http_exception_handler(request, exc)

    return app
