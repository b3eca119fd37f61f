"""Which harness namespace a request or WebSocket belongs to."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import HTTPConnection

from .. import NAMESPACE_HEADER

NAMESPACE_QUERY = "harness_namespace"
DEFAULT_NAMESPACE = "default"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_HEADER_KEY = NAMESPACE_HEADER.lower().encode("latin-1")  # ASGI header names are lower case


def clean_namespace(raw: str | None) -> str:
    """Return a filesystem-safe namespace (at most 64 chars), or the default one."""
    if not raw:
        return DEFAULT_NAMESPACE
    cleaned = _UNSAFE.sub("_", raw.strip())[:64].strip(".")
    return cleaned or DEFAULT_NAMESPACE


def namespace_of_scope(scope: Mapping[str, Any]) -> str:
    """Namespace from an ASGI scope: header NAMESPACE_HEADER, else `?harness_namespace=`."""
    for name, value in scope.get("headers", ()):
        if name == _HEADER_KEY:
            return clean_namespace(value.decode("latin-1"))
    query = scope.get("query_string", b"")
    if query and b"harness_namespace" in query:
        values = parse_qs(query.decode("latin-1")).get(NAMESPACE_QUERY)
        if values:
            return clean_namespace(values[0])
    return DEFAULT_NAMESPACE


def namespace_of(conn: HTTPConnection | Mapping[str, Any]) -> str:
    """Namespace of a Starlette Request/WebSocket (or a raw ASGI scope)."""
    scope = conn.scope if isinstance(conn, HTTPConnection) else conn
    return namespace_of_scope(scope)
