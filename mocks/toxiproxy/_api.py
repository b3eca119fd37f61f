"""Toxiproxy 2.x HTTP API (routes, status codes, bodies as in upstream's api.go)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ._collection import PopulateError, ProxyCollection
from ._decode import (
    first_value,
    get_bool,
    get_float,
    get_str,
    go_json,
    lookup,
    require_object,
    type_error,
)
from ._errors import (
    INVALID_STREAM,
    INVALID_TOXIC_TYPE,
    MISSING_FIELD,
    TOXIC_ALREADY_EXISTS,
    TOXIC_NOT_FOUND,
    ApiError,
)
from ._log import emit
from ._proxy import AlreadyStartedError
from ._toxics import TOXIC_TYPES, ToxicWrapper

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


PLAIN_HEADERS = {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}


def json_response(value: Any, status: int = 200) -> Response:
    """Compact JSON like Go's json.Marshal, `Content-Type: application/json`."""
    return Response(go_json(value), status_code=status, media_type="application/json")


def error_response(body: dict[str, Any], status: int) -> Response:
    """Go's http.Error: text/plain content type, JSON text plus a newline."""
    return Response(
        go_json(body) + b"\n",
        status_code=status,
        headers=PLAIN_HEADERS,
    )


class ApiMiddleware:
    """Refuses browsers like upstream (403) and logs one JSON line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]
        request_id = request_id_header()

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [*message.get("headers", []), request_id]
            await send(message)

        agent = dict(scope.get("headers") or []).get(b"user-agent", b"")
        if agent.startswith(b"Mozilla/"):
            await error_response_raw(send_logged, 403, b"User agent not allowed\n")
        else:
            await self.app(scope, receive, send_logged)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
        emit("request", method=scope["method"], path=scope["path"], status=status[0], ms=elapsed_ms)


def request_id_header() -> tuple[bytes, bytes]:
    """Upstream tags every response with an xid-style `X-Toxiproxy-Request-Id`."""
    token = base64.b32hexencode(os.urandom(15)).decode().lower()[:20]
    return (b"x-toxiproxy-request-id", token.encode())


async def error_response_raw(send: Send, status: int, body: bytes) -> None:
    """A plain-text response written straight to ASGI."""
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"x-content-type-options", b"nosniff"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def parse_toxic(raw: bytes) -> tuple[str, str, str, float, Any]:
    """Decode a toxic creation body: (name, type, stream, toxicity, attributes)."""
    obj = require_object(first_value(raw), "toxics.ToxicWrapper")
    name = get_str(obj, "name", "ToxicWrapper", "")
    type_name = get_str(obj, "type", "ToxicWrapper", "")
    stream = get_str(obj, "stream", "ToxicWrapper", "downstream")
    toxicity = get_float(obj, "toxicity", "ToxicWrapper", 1.0)
    attributes = lookup(obj, "attributes")
    if attributes is not None and not isinstance(attributes, dict):
        raise type_error(attributes, "Go struct field ToxicWrapper.attributes", "toxics.Toxic")
    return name, type_name, stream, toxicity, attributes


def create_app(collection: ProxyCollection, version: str) -> FastAPI:
    """The API app over `collection`; `/version` reports `version`."""
    app = FastAPI(
        title="toxiproxy (mediastack-harness)",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
    )
    app.add_middleware(ApiMiddleware)
    lock = asyncio.Lock()  # upstream serialises changes with mutexes

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> Response:
        return error_response(exc.body(), exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:  # gorilla/mux: 405 with an empty body
            return Response(status_code=405)
        return Response(
            b"404 page not found\n",
            status_code=404,
            headers={
                "Content-Type": "text/plain; charset=utf-8",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @app.post("/reset")
    async def reset_state() -> Response:
        async with lock:
            for proxy in list(collection.proxies.values()):
                with contextlib.suppress(AlreadyStartedError):
                    await proxy.start()
                proxy.toxics.reset()
        return Response(status_code=204)

    @app.get("/proxies")
    async def proxy_index() -> Response:
        return json_response({n: p.to_json() for n, p in sorted(collection.proxies.items())})

    @app.post("/proxies")
    async def proxy_create(request: Request) -> Response:
        obj = require_object(first_value(await request.body()), "toxiproxy.Proxy")
        name = get_str(obj, "name", "Proxy", "")
        listen = get_str(obj, "listen", "Proxy", "")
        upstream = get_str(obj, "upstream", "Proxy", "")
        enabled = get_bool(obj, "enabled", "Proxy", True)
        if not name:
            raise MISSING_FIELD.joined("name")
        if not upstream:
            raise MISSING_FIELD.joined("upstream")
        async with lock:
            proxy = collection.new_proxy(name, listen, upstream)
            await collection.add(proxy, enabled)
        return json_response(proxy.to_json(), 201)

    @app.post("/populate")
    async def populate(request: Request) -> Response:
        body = await request.body()
        async with lock:
            try:
                proxies = await collection.populate(body)
            except PopulateError as exc:
                listed = None if not exc.proxies else [p.to_json() for p in exc.proxies]
                return json_response({**exc.error.body(), "proxies": listed}, exc.error.status)
        # Go marshals an empty slice built by append as null.
        return json_response({"proxies": [p.to_json() for p in proxies] or None}, 201)

    @app.get("/proxies/{proxy}")
    async def proxy_show(proxy: str) -> Response:
        return json_response(collection.get(proxy).to_json())

    @app.api_route("/proxies/{proxy}", methods=["POST", "PATCH"])
    async def proxy_update(proxy: str, request: Request) -> Response:
        async with lock:
            found = collection.get(proxy)
            obj = require_object(first_value(await request.body()), "toxiproxy.Proxy")
            listen = get_str(obj, "listen", "Proxy", found.listen)
            upstream = get_str(obj, "upstream", "Proxy", found.upstream)
            enabled = get_bool(obj, "enabled", "Proxy", found.enabled)
            await found.update(listen, upstream, enabled)
        return json_response(found.to_json())

    @app.delete("/proxies/{proxy}")
    async def proxy_delete(proxy: str) -> Response:
        async with lock:
            await collection.remove(proxy)
        return Response(status_code=204)

    @app.get("/proxies/{proxy}/toxics")
    async def toxic_index(proxy: str) -> Response:
        return json_response([w.to_json() for w in collection.get(proxy).toxics.all()])

    @app.post("/proxies/{proxy}/toxics")
    async def toxic_create(proxy: str, request: Request) -> Response:
        async with lock:
            found = collection.get(proxy)
            name, type_name, stream, toxicity, attributes = parse_toxic(await request.body())
            if stream.lower() not in ("upstream", "downstream"):
                raise INVALID_STREAM
            name = name or f"{type_name}_{stream}"
            toxic_cls = TOXIC_TYPES.get(type_name)
            if toxic_cls is None:
                raise INVALID_TOXIC_TYPE
            if found.toxics.find(name) is not None:
                raise TOXIC_ALREADY_EXISTS
            toxic = toxic_cls()
            toxic.decode(attributes)
            wrapper = ToxicWrapper(name, type_name, stream, toxicity, toxic)
            found.toxics.add(wrapper)
        return json_response(wrapper.to_json())  # 200, not 201, like upstream

    @app.get("/proxies/{proxy}/toxics/{toxic}")
    async def toxic_show(proxy: str, toxic: str) -> Response:
        wrapper = collection.get(proxy).toxics.find(toxic)
        if wrapper is None:
            raise TOXIC_NOT_FOUND
        return json_response(wrapper.to_json())

    @app.api_route("/proxies/{proxy}/toxics/{toxic}", methods=["POST", "PATCH"])
    async def toxic_update(proxy: str, toxic: str, request: Request) -> Response:
        async with lock:
            found = collection.get(proxy)
            wrapper = found.toxics.find(toxic)
            if wrapper is None:
                raise TOXIC_NOT_FOUND
            obj = require_object(first_value(await request.body()), "struct")
            toxicity = get_float(obj, "toxicity", "", wrapper.toxicity)
            wrapper.toxic.decode(lookup(obj, "attributes"))
            wrapper.toxicity = toxicity
            found.toxics.updated(wrapper)
        return json_response(wrapper.to_json())

    @app.delete("/proxies/{proxy}/toxics/{toxic}")
    async def toxic_delete(proxy: str, toxic: str) -> Response:
        async with lock:
            collection.get(proxy).toxics.remove(toxic)
        return Response(status_code=204)

    @app.get("/version")
    async def version_show() -> Response:
        body = '{"version": ' + json.dumps(version) + "}\n"
        return Response(body.encode(), headers={"Content-Type": "application/json;charset=utf-8"})

    @app.get("/__harness/health")
    async def health() -> Response:
        """Not upstream: the mocks' container health check."""
        return json_response({"status": "ok", "service": "toxiproxy"})

    return app
