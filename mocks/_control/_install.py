"""install_control(): attach the control plane to a FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from ._middleware import CONTROL_PREFIX, ControlMiddleware
from ._plane import ControlPlane, ResetHook
from ._routes import build_router
from ._shortcut import shortcut_root_mount


def install_control(
    app: FastAPI,
    service: str,
    on_reset: ResetHook | None = None,
    seed: int | None = None,
    journal_cap: int = 500,
) -> ControlPlane:
    """Add /__harness routes and the journal/fault middleware (outermost) to `app`.

    `on_reset(ns)` is called on POST /__harness/reset with the namespace to clear (None = all);
    it may be sync or async. The middleware wraps the whole Starlette stack so that drop faults
    can close uvicorn's socket directly; requests for an app mounted at "" skip the outer stack.
    """
    plane = ControlPlane(service, on_reset=on_reset, seed=seed, journal_cap=journal_cap)
    before = len(app.router.routes)
    app.include_router(build_router(plane))
    harness = app.router.routes[before:]
    inner_build = app.build_middleware_stack

    def build_middleware_stack() -> ControlMiddleware:
        stack = shortcut_root_mount(app, inner_build(), harness, CONTROL_PREFIX)
        return ControlMiddleware(stack, plane)

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]
    app.state.harness_control = plane
    return plane
