"""install_control(): attach the control plane to a FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from ._middleware import ControlMiddleware
from ._plane import ControlPlane, ResetHook
from ._routes import ROUTES
from ._table import route_table


def install_control(
    app: FastAPI,
    service: str,
    on_reset: ResetHook | None = None,
    seed: int | None = None,
    journal_cap: int = 500,
) -> ControlPlane:
    """Add /__harness routes and the journal middleware (outermost) to `app`.

    `on_reset(ns)` is called on POST /__harness/reset with the namespace to clear (None = all);
    it may be sync or async. The middleware wraps the whole Starlette stack so that the journal
    sees every request and its final status (also the 500 of an unhandled error).
    """
    plane = ControlPlane(service, on_reset=on_reset, seed=seed, journal_cap=journal_cap)
    app.state.harness_control = plane
    app.include_router(route_table(ROUTES, tags=["harness"]))
    inner_build = app.build_middleware_stack

    def build_middleware_stack() -> ControlMiddleware:
        return ControlMiddleware(inner_build(), plane)

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]
    return plane
