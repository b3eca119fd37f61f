"""HTTP, SSE and WebSocket routes."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Header, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse

from ._context import Context
from ._errors import StudioError
from ._events import TERMINAL, parse_event_id
from ._health import check_all
from ._settings import ConfigError, apply_update
from ._tools import run_tool

log = logging.getLogger("studio.api")


class ProjectIn(BaseModel):
    """POST /projects body."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)


class CharacterIn(BaseModel):
    """A character given with an episode."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=4000)


class EpisodeIn(BaseModel):
    """POST /projects/{id}/episodes body."""

    title: str = Field(min_length=1, max_length=300)
    premise: str = Field(default="", max_length=4000)
    characters: list[CharacterIn] = Field(default_factory=list, max_length=20)


def ctx_of(request: Request | WebSocket) -> Context:
    """The app's Context."""
    ctx: Context = request.app.state.ctx
    return ctx


def install_errors(app: FastAPI) -> None:
    """StudioError -> {"error": {"type", "message"}} with its status."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StudioError)
        if exc.status >= 500:
            log.warning("%s %s -> %d %s", request.method, request.url.path, exc.status, exc)
        body: dict[str, Any] = {"type": type(exc).__name__, "message": exc.message}
        backend = getattr(exc, "backend", None)
        if backend:
            body["backend"] = backend
        return JSONResponse({"error": body}, status_code=exc.status)

    app.add_exception_handler(StudioError, handler)


def install_metrics_middleware(app: FastAPI) -> None:
    """Count and time every HTTP request by route template."""

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", "unmatched")
            metrics = ctx_of(request).metrics
            metrics.requests.labels(request.method, template, str(status)).inc()
            metrics.latency.labels(request.method, template).observe(time.perf_counter() - started)


def build_router() -> APIRouter:
    """Every route of the studio."""
    router = APIRouter()

    @router.post("/projects", status_code=201)
    async def create_project(body: ProjectIn, request: Request) -> dict[str, Any]:
        return await ctx_of(request).store.create_project(body.name, body.description)

    @router.get("/projects/{project_id}")
    async def get_project(project_id: str, request: Request) -> dict[str, Any]:
        return await ctx_of(request).store.get_project(project_id)

    @router.post("/projects/{project_id}/episodes", status_code=201)
    async def create_episode(
        project_id: str,
        body: EpisodeIn,
        request: Request,
        response: Response,
        idempotency_key: str | None = Header(None, max_length=200),
    ) -> dict[str, Any]:
        created = await ctx_of(request).store.create_episode(
            project_id, body.model_dump(), idempotency_key
        )
        if created.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        response.headers["Location"] = f"/episodes/{created.episode['id']}"
        return created.episode

    @router.get("/projects/{project_id}/episodes")
    async def list_episodes(project_id: str, request: Request) -> dict[str, Any]:
        return {"episodes": await ctx_of(request).store.list_episodes(project_id)}

    @router.get("/episodes/{episode_id}")
    async def get_episode(episode_id: str, request: Request) -> dict[str, Any]:
        return await ctx_of(request).store.get_episode(episode_id)

    @router.get("/episodes/{episode_id}/events")
    async def episode_events(
        episode_id: str,
        request: Request,
        last_event_id: str | None = Header(None),
        after: str | None = None,
    ) -> EventSourceResponse:
        ctx = ctx_of(request)
        await ctx.store.get_episode(episode_id)  # 404 before the stream starts
        start = parse_event_id(last_event_id) or parse_event_id(after)

        async def finished() -> bool:
            episode = await ctx.store.get_episode(episode_id)
            return episode["state"] in TERMINAL

        async def stream() -> AsyncIterator[dict[str, str]]:
            try:
                async for event in ctx.events.follow(episode_id, start, finished):
                    yield event.sse()
            except StudioError as exc:
                # no id: the client resumes from its last event after reconnecting
                yield {"event": "error", "data": json.dumps({"error": exc.message})}

        return EventSourceResponse(stream(), ping=10, send_timeout=30)

    @router.websocket("/ws/tools")
    async def tools(websocket: WebSocket) -> None:
        await websocket.accept()
        ctx = ctx_of(websocket)
        try:
            while True:
                raw = await websocket.receive_text()
                try:
                    message = json.loads(raw)
                except ValueError:
                    await websocket.send_json({"ok": False, "error": "message is not valid JSON"})
                    continue
                await websocket.send_json(await run_tool(ctx, message))
        except WebSocketDisconnect:
            return

    @router.get("/health")
    async def health(request: Request) -> JSONResponse:
        report = await check_all(ctx_of(request))
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        ctx = ctx_of(request)
        with contextlib.suppress(StudioError):  # Redis down: keep the last counts
            ctx.metrics.set_episode_counts(await ctx.store.state_counts())
            ctx.metrics.set_numbering(await ctx.store.numbering())
        return Response(ctx.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @router.get("/config")
    async def get_config(request: Request) -> dict[str, Any]:
        return ctx_of(request).settings.public()

    @router.put("/config")
    async def put_config(request: Request) -> JSONResponse:
        ctx = ctx_of(request)
        try:
            changes = await request.json()
        except ValueError:
            return JSONResponse({"error": {"type": "ConfigError", "message": "invalid JSON"}}, 400)
        if not isinstance(changes, dict):
            return JSONResponse(
                {"error": {"type": "ConfigError", "message": "body must be an object"}}, 400
            )
        try:
            new = apply_update(ctx.settings, changes)
        except ConfigError as exc:
            return JSONResponse({"error": {"type": "ConfigError", "message": str(exc)}}, 422)
        reconnected = await ctx.backends.reconfigure(new)
        return JSONResponse({"config": new.public(), "reconnected": sorted(reconnected)})

    return router
