"""The control API: routes (`/routes`), their fault rules and their journals."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ._routes import RouteError, RouteTable
from ._rules import RuleSpec


class RouteSpec(BaseModel):
    """Body of `POST /routes`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    upstream: str = Field(pattern=r"^.+:\d+$")


class UpstreamSpec(BaseModel):
    """Body of `PATCH /routes/{name}`."""

    model_config = ConfigDict(extra="forbid")

    upstream: str = Field(pattern=r"^.+:\d+$")


def create_app(table: RouteTable, seed: int) -> FastAPI:
    """The API over one route table (`seed`: the run's, for rules that give none)."""
    app = FastAPI(title="mediastack-harness HTTP fault layer", openapi_url=None)

    @app.exception_handler(RouteError)
    async def _refused(request: Request, error: RouteError) -> JSONResponse:
        return JSONResponse({"error": error.message}, status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())[1:])
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        return JSONResponse({"error": f"{where}: {message}" if where else message}, 422)

    @app.get("/version")
    async def version() -> dict[str, Any]:
        return {"service": "httpfaults", "routes": len(table.routes)}

    @app.get("/routes")
    async def routes() -> dict[str, Any]:
        return {name: route.describe() for name, route in table.routes.items()}

    @app.post("/routes", status_code=201)
    async def create(spec: RouteSpec) -> JSONResponse:
        route, new = await table.create(spec.name, spec.upstream)
        return JSONResponse(route.describe(), status_code=201 if new else 200)

    @app.get("/routes/{name}")
    async def route(name: str) -> dict[str, Any]:
        return table.get(name).describe()

    @app.patch("/routes/{name}")
    async def repoint(name: str, spec: UpstreamSpec) -> dict[str, Any]:
        route = table.get(name)
        route.upstream = spec.upstream
        return route.describe()

    @app.delete("/routes/{name}")
    async def delete(name: str) -> dict[str, str]:
        await table.delete(name)
        return {"deleted": name}

    @app.post("/routes/{name}/faults", status_code=201)
    async def add_fault(name: str, spec: RuleSpec) -> dict[str, Any]:
        route = table.get(name)
        if "seed" not in spec.model_fields_set:
            spec.seed = seed
        return route.add(spec).describe()

    @app.get("/routes/{name}/faults")
    async def faults(name: str) -> list[dict[str, Any]]:
        return [rule.describe() for rule in table.get(name).rules]

    @app.delete("/routes/{name}/faults/{rule_id}")
    async def remove_fault(name: str, rule_id: str) -> dict[str, Any]:
        return table.get(name).remove(rule_id).describe()

    @app.delete("/routes/{name}/faults")
    async def clear_faults(name: str) -> dict[str, int]:
        return {"deleted": table.get(name).clear()}

    @app.get("/routes/{name}/journal")
    async def journal(name: str, after: int = 0) -> list[dict[str, Any]]:
        return table.get(name).journal.read(after)

    return app
