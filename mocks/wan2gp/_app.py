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

from .._control import install_control, namespace_of
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


def _settings_routes(app: FastAPI, registry: Registry) -> None:
    @app.get("/__harness/wan2gp/settings")
    async def get_settings(request: Request) -> JSONResponse:
        return JSONResponse(registry.settings(namespace_of(request)).public())

    @app.put("/__harness/wan2gp/settings")
    async def put_settings(request: Request) -> JSONResponse:
        ns = namespace_of(request)
        try:
            changes = json.loads(await request.body() or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("body must be a JSON object")
            registry.set_settings(ns, registry.settings(ns).updated(changes))
        except ValueError as exc:
            return JSONResponse({"message": str(exc)}, 400)
        return JSONResponse(registry.settings(ns).public())


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
    install_control(app, service="wan2gp", on_reset=registry.reset, seed=cfg.seed)
    _settings_routes(app, registry)
    if cfg.health_route:

        @app.get("/api/health")
        async def health() -> JSONResponse:
            return JSONResponse({"status": "ok"})

    demo = build_demo(registry)
    app.state.wan2gp_registry = registry
    return gr.mount_gradio_app(
        app, demo, path="", allowed_paths=[str(out_dir)], ssr_mode=False, show_error=True
    )
