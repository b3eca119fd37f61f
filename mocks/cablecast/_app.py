"""Assemble the Cablecast mock: FastAPI app + control plane + routes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from .._control import install_control, route_table
from ._http import ApiError, CaseInsensitivePrefix, Credentials, api_error_handler
from ._routes import ROUTES
from ._store import Settings, Store
from .data import generate


@dataclass(frozen=True)
class Config:
    """Process-wide options (CLI flags / env)."""

    seed: int = 0
    shows: int = 40
    user: str = "admin"
    password: str = "admin"
    step_seconds: float = 1.0
    processing_steps: int = 4
    error_token: str = "FAIL_VOD"


def build_app(config: Config | None = None) -> FastAPI:
    """A ready-to-serve Cablecast mock app (state seeded from `config.seed`)."""
    cfg = config or Config()
    defaults = Settings(
        step_seconds=cfg.step_seconds,
        processing_steps=cfg.processing_steps,
        error_token=cfg.error_token,
    )
    store = Store(generate(cfg.seed, shows=cfg.shows), defaults)
    app = FastAPI(title="Cablecast mock", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_middleware(CaseInsensitivePrefix)
    app.state.cablecast_store = store
    app.state.cablecast_credentials = Credentials(cfg.user, cfg.password)
    app.include_router(route_table(ROUTES))
    install_control(app, service="cablecast", on_reset=store.reset, seed=cfg.seed)
    return app
