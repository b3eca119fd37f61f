"""Assemble the Wan2GP mock: FastAPI (control plane, optional /api/health) + mounted Gradio."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .._control import Route, install_control, namespace_of, route_table
from ._engine import Registry, Settings
from ._ui import build_demo


@dataclass(frozen=True)
class Config:
    """Process-wide options (CLI flags / env)."""

    seed: int = 0
    step_seconds: float = 0.05
    fail_token: str = "FAIL_GEN"
    health_route: bool = False
    output_dir: str | None = None


def _registry(request: Request) -> Registry:
    """The app's registry (`build_app` puts it on the app's state)."""
    registry: Registry = request.app.state.wan2gp_registry
    return registry


async def get_settings(request: Request) -> JSONResponse:
    return JSONResponse(_registry(request).settings(namespace_of(request)).public())


async def put_settings(request: Request) -> JSONResponse:
    registry = _registry(request)
    ns = namespace_of(request)
    try:
        changes = json.loads(await request.body() or b"{}")
        if not isinstance(changes, dict):
            raise ValueError("body must be a JSON object")
        registry.set_settings(ns, registry.settings(ns).updated(changes))
    except ValueError as exc:
        return JSONResponse({"message": str(exc)}, 400)
    return JSONResponse(registry.settings(ns).public())


async def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})


SETTINGS = "/__harness/wan2gp/settings"
ROUTES: tuple[Route, ...] = (  # in the order of matching; Gradio's own routes come after
    Route("GET", SETTINGS, get_settings),
    Route("PUT", SETTINGS, put_settings),
)
HEALTH_ROUTES: tuple[Route, ...] = (Route("GET", "/api/health", health),)  # --health-route


def build_app(config: Config | None = None) -> FastAPI:
    """FastAPI app with the control plane and the WanGP Blocks mounted at "/"."""
    cfg = config or Config()
    owned = not cfg.output_dir
    out_dir = Path(cfg.output_dir or tempfile.mkdtemp(prefix="wan2gp-mock-outputs-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    registry = Registry(Settings(cfg.step_seconds, cfg.fail_token), out_dir, cfg.seed)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:  # uvicorn re-raises SIGTERM after shutdown, so atexit would not run
            if owned:
                shutil.rmtree(out_dir, ignore_errors=True)

    app = FastAPI(
        title="Wan2GP mock", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.wan2gp_registry = registry
    install_control(app, service="wan2gp", on_reset=registry.reset, seed=cfg.seed)
    app.include_router(route_table(ROUTES + HEALTH_ROUTES if cfg.health_route else ROUTES))
    demo = build_demo(registry)
    return gr.mount_gradio_app(
        app, demo, path="", allowed_paths=[str(out_dir)], ssr_mode=False, show_error=True
    )
