"""HTTP plumbing: error shape, Basic auth, query parsing, case-insensitive API prefix."""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/cablecastapi/v1"
REALM = 'Basic realm="Cablecast"'
DENIED = "Authorization has been denied for this request."


class ApiError(Exception):
    """An error answered as `{"message": ...}` with `status`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


async def api_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI exception handler for ApiError."""
    assert isinstance(exc, ApiError)
    return JSONResponse({"message": exc.message}, exc.status, headers=exc.headers)


@dataclass(frozen=True)
class Credentials:
    """The single Frontdoor user the mock accepts."""

    user: str
    password: str

    def check(self, request: Request) -> None:
        """Raise 401 unless the request carries matching HTTP Basic credentials."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "basic" and token:
            try:
                user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, password = "", ""
            if secrets.compare_digest(user, self.user) and secrets.compare_digest(
                password, self.password
            ):
                return
        raise ApiError(401, DENIED, {"WWW-Authenticate": REALM})


def int_param(request: Request, name: str, default: int | None, minimum: int = 0) -> int | None:
    """Integer query parameter (400 if malformed or below `minimum`)."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"The value '{raw}' is not valid for {name}.") from None
    if value < minimum:
        raise ApiError(400, f"{name} must be >= {minimum}.")
    return value


def ids_param(request: Request) -> list[int] | None:
    """`ids[]=1&ids[]=2` (or `ids=1,2`) filter, None when absent."""
    raw = request.query_params.getlist("ids[]") + request.query_params.getlist("ids")
    if not raw:
        return None
    out: list[int] = []
    for chunk in raw:
        for part in chunk.split(","):
            try:
                out.append(int(part))
            except ValueError:
                raise ApiError(400, f"The value '{part}' is not valid for ids.") from None
    return out


def includes_param(request: Request) -> list[str]:
    """`include=reel,vod` -> ["reel", "vod"] (lower-cased)."""
    raw = ",".join(request.query_params.getlist("include"))
    return [part.strip().lower() for part in raw.split(",") if part.strip()]


class CaseInsensitivePrefix:
    """ASGI middleware: route `/CablecastAPI/v1/...` (any case) to `/cablecastapi/v1/...`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            head = path[: len(PREFIX)]
            if head != PREFIX and head.lower() == PREFIX:
                scope = dict(scope)
                scope["path"] = PREFIX + path[len(PREFIX) :]
        await self.app(scope, receive, send)
