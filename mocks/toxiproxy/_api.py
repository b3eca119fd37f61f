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
from starlette.routing import Router

from ._collection import PopulateError, ProxyCollection
from ._decode import decode, read_json
from ._errors import (
    INVALID_STREAM,
    INVALID_TOXIC_TYPE,
    MISSING_FIELD,
    TOXIC_ALREADY_EXISTS,
    TOXIC_NOT_FOUND,
    ApiError,
)
from ._gojson import Float32, marshal
from ._log import emit
from ._proxy import AlreadyStartedError
from ._routing import clean_path_redirect, route_matches
from ._structs import PROXY, TOXIC_WRAPPER, toxic_attributes, toxic_update_struct
from ._toxic import ToxicWrapper
from ._toxics import TOXIC_TYPES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


PLAIN_HEADERS = {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}


def json_response(value: Any, status: int = 200) -> Response:
    """Compact JSON like Go's json.Marshal, `Content-Type: application/json`."""
    return Response(marshal(value).encode(), status_code=status, media_type="application/json")


def error_response(body: dict[str, Any], status: int) -> Response:
    """Go's http.Error: text/plain content type, JSON text plus a newline."""
    return Response(
        marshal(body).encode() + b"\n",
        status_code=status,
        headers=PLAIN_HEADERS,
    )


class ApiMiddleware:
    """What upstream does around its handlers (gorilla/mux v1.8.1 and api.go's middlewares).

    mux redirects unclean paths (301) before routing; its middlewares (request id header,
    browser block) run only on a matched route, so a 404 or 405 carries neither.
    """

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]
        early = clean_path_redirect(scope)
        matched = early is None and route_matches(self.router, scope)
        extra = [request_id_header()] if matched else []
        head = scope["method"] == "HEAD"

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = [*message.get("headers", []), *extra]
                if head and (b"content-length", b"0") in headers:
                    headers.remove((b"content-length", b"0"))  # Go omits it on HEAD
                message["headers"] = headers
            await send(message)

        agent = dict(scope.get("headers") or []).get(b"user-agent", b"")
        if early is not None:
            await send_raw(send_logged, *early)
        elif matched and agent.startswith(b"Mozilla/"):
            await send_raw(send_logged, 403, PLAIN_RAW, b"User agent not allowed\n")
        else:
            await self.app(scope, receive, send_logged)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
        emit("request", method=scope["method"], path=scope["path"], status=status[0], ms=elapsed_ms)


def request_id_header() -> tuple[bytes, bytes]:
    """Upstream tags every response with an xid-style `X-Toxiproxy-Request-Id`."""
    token = base64.b32hexencode(os.urandom(15)).decode().lower()[:20]
    return (b"x-toxiproxy-request-id", token.encode())


PLAIN_RAW = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"x-content-type-options", b"nosniff"),
]


async def send_raw(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """A response written straight to ASGI."""
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def new_toxic(raw: bytes) -> ToxicWrapper:
    """AddToxicJson's first decode: the wrapper, its stream, name and type checked."""
    fields: dict[str, Any] = {"name": "", "type": "", "stream": "downstream"}
    fields["toxicity"] = Float32(1.0)
    decode(read_json(raw), TOXIC_WRAPPER, fields)
    stream = fields["stream"]
    if stream.lower() not in ("upstream", "downstream"):
        raise INVALID_STREAM
    name = fields["name"] or f"{fields['type']}_{stream}"
    toxic_cls = TOXIC_TYPES.get(fields["type"])
    if toxic_cls is None:
        raise INVALID_TOXIC_TYPE
    return ToxicWrapper(name, fields["type"], stream, fields["toxicity"], toxic_cls())


def decode_attributes(raw: bytes, wrapper: ToxicWrapper) -> None:
    """AddToxicJson's second decode: the attributes into the toxic of the known type."""
    target = {"attributes": wrapper.toxic.values}
    decode(read_json(raw), toxic_attributes(wrapper.toxic.struct()), target)


class _Api:
    """What the handlers share: the proxies, the version `/version` reports, and the lock that
    serialises changes (upstream's mutexes)."""

    def __init__(self, collection: ProxyCollection, version: str) -> None:
        self.collection, self.version = collection, version
        self.lock = asyncio.Lock()


def _state(request: Request) -> _Api:
    api: _Api = request.app.state.toxiproxy
    return api


async def api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.body(), exc.status)


async def http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:  # gorilla/mux: 405 with an empty body
        return Response(status_code=405)
    return Response(b"404 page not found\n", status_code=404, headers=PLAIN_HEADERS)


async def reset_state(request: Request) -> Response:
    api = _state(request)
    async with api.lock:
        for proxy in list(api.collection.proxies.values()):
            with contextlib.suppress(AlreadyStartedError):
                await proxy.start()
            proxy.toxics.reset()
    return Response(status_code=204)


async def proxy_index(request: Request) -> Response:
    proxies = _state(request).collection.proxies
    return json_response({n: p.to_json() for n, p in sorted(proxies.items())})


async def proxy_create(request: Request) -> Response:
    api = _state(request)
    fields: dict[str, Any] = {"name": "", "listen": "", "upstream": "", "enabled": True}
    decode(read_json(await request.body()), PROXY, fields)
    if not fields["name"]:
        raise MISSING_FIELD.joined("name")
    if not fields["upstream"]:
        raise MISSING_FIELD.joined("upstream")
    async with api.lock:
        proxy = api.collection.new_proxy(fields["name"], fields["listen"], fields["upstream"])
        await api.collection.add(proxy, fields["enabled"])
    return json_response(proxy.to_json(), 201)


async def populate(request: Request) -> Response:
    api = _state(request)
    body = await request.body()
    async with api.lock:
        try:
            proxies = await api.collection.populate(body)
        except PopulateError as exc:
            listed = None if not exc.proxies else [p.to_json() for p in exc.proxies]
            return json_response({**exc.error.body(), "proxies": listed}, exc.error.status)
    # Go marshals an empty slice built by append as null.
    return json_response({"proxies": [p.to_json() for p in proxies] or None}, 201)


async def proxy_show(request: Request) -> Response:
    proxy = _state(request).collection.get(request.path_params["proxy"])
    return json_response(proxy.to_json())


async def proxy_update(request: Request) -> Response:
    api = _state(request)
    async with api.lock:
        found = api.collection.get(request.path_params["proxy"])
        fields: dict[str, Any] = {
            "listen": found.listen,
            "upstream": found.upstream,
            "enabled": found.enabled,
        }
        decode(read_json(await request.body()), PROXY, fields)
        await found.update(fields["listen"], fields["upstream"], fields["enabled"])
    return json_response(found.to_json())


async def proxy_delete(request: Request) -> Response:
    api = _state(request)
    async with api.lock:
        await api.collection.remove(request.path_params["proxy"])
    return Response(status_code=204)


async def toxic_index(request: Request) -> Response:
    toxics = _state(request).collection.get(request.path_params["proxy"]).toxics
    return json_response([w.to_json() for w in toxics.all()])


async def toxic_create(request: Request) -> Response:
    api = _state(request)
    async with api.lock:
        found = api.collection.get(request.path_params["proxy"])
        raw = await request.body()
        wrapper = new_toxic(raw)
        if found.toxics.find(wrapper.name) is not None:
            raise TOXIC_ALREADY_EXISTS
        decode_attributes(raw, wrapper)
        found.toxics.add(wrapper)
    return json_response(wrapper.to_json())  # 200, not 201, like upstream


async def toxic_show(request: Request) -> Response:
    found = _state(request).collection.get(request.path_params["proxy"])
    wrapper = found.toxics.find(request.path_params["toxic"])
    if wrapper is None:
        raise TOXIC_NOT_FOUND
    return json_response(wrapper.to_json())


async def toxic_update(request: Request) -> Response:
    api = _state(request)
    async with api.lock:
        found = api.collection.get(request.path_params["proxy"])
        wrapper = found.toxics.find(request.path_params["toxic"])
        if wrapper is None:
            raise TOXIC_NOT_FOUND
        value = read_json(await request.body())
        # Go decodes into the live toxic: fields decoded before an error stay changed.
        fields: dict[str, Any] = {
            "attributes": wrapper.toxic.values,
            "toxicity": wrapper.toxicity,
        }
        decode(value, toxic_update_struct(wrapper.toxic.struct()), fields)
        wrapper.toxicity = fields["toxicity"]
        found.toxics.updated(wrapper)
    return json_response(wrapper.to_json())


async def toxic_delete(request: Request) -> Response:
    api = _state(request)
    async with api.lock:
        api.collection.get(request.path_params["proxy"]).toxics.remove(request.path_params["toxic"])
    return Response(status_code=204)


async def version_show(request: Request) -> Response:
    body = '{"version": ' + json.dumps(_state(request).version) + "}\n"
    return Response(body.encode(), headers={"Content-Type": "application/json;charset=utf-8"})


async def health(_request: Request) -> Response:
    """Not upstream: the mocks' container health check."""
    return json_response({"status": "ok", "service": "toxiproxy"})


# The one route table, in upstream api.go's order (gorilla/mux tries routes in order).
ROUTES: tuple[tuple[str, tuple[str, ...], Callable[[Request], Awaitable[Response]]], ...] = (
    ("/reset", ("POST",), reset_state),
    ("/proxies", ("GET",), proxy_index),
    ("/proxies", ("POST",), proxy_create),
    ("/populate", ("POST",), populate),
    ("/proxies/{proxy}", ("GET",), proxy_show),
    ("/proxies/{proxy}", ("POST", "PATCH"), proxy_update),
    ("/proxies/{proxy}", ("DELETE",), proxy_delete),
    ("/proxies/{proxy}/toxics", ("GET",), toxic_index),
    ("/proxies/{proxy}/toxics", ("POST",), toxic_create),
    ("/proxies/{proxy}/toxics/{toxic}", ("GET",), toxic_show),
    ("/proxies/{proxy}/toxics/{toxic}", ("POST", "PATCH"), toxic_update),
    ("/proxies/{proxy}/toxics/{toxic}", ("DELETE",), toxic_delete),
    ("/version", ("GET",), version_show),
    ("/__harness/health", ("GET",), health),
)


def create_app(collection: ProxyCollection, version: str) -> FastAPI:
    """The API app over `collection`; `/version` reports `version`."""
    app = FastAPI(
        title="toxiproxy (mediastack-harness)",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
    )
    app.state.toxiproxy = _Api(collection, version)
    app.add_middleware(ApiMiddleware, router=app.router)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for path, methods, handler in ROUTES:
        app.add_api_route(path, handler, methods=list(methods))
    return app
