"""gorilla/mux v1.8.1 and net/http behaviour in front of upstream's routes.

- `mux.Router.ServeHTTP` answers an unclean path (`//proxies`, `/a/../b`) with 301 to
  `cleanPath(path)` before any route or middleware runs (mux.go, cleanPath).
- Middlewares added with `Router.Use` wrap matched routes only (mux.go, Router.Match).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import quote

from starlette.routing import Match, Router

Raw = tuple[int, list[tuple[bytes, bytes]], bytes]


def go_clean(path: str) -> str:
    """Go's path.Clean for a rooted path."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def clean_path(path: str) -> str:
    """mux's cleanPath: path.Clean, keeping a trailing slash."""
    if not path:
        return "/"
    if not path.startswith("/"):
        path = "/" + path
    cleaned = go_clean(path)
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


def clean_path_redirect(scope: MutableMapping[str, Any]) -> Raw | None:
    """The 301 mux sends for an unclean (decoded) path; Location as url.URL.String()."""
    path = scope["path"]
    cleaned = clean_path(path)
    if cleaned == path:
        return None
    location = quote(cleaned, safe="/$&+,:;=@")
    query = scope.get("query_string", b"")
    if query:
        location += "?" + query.decode("latin-1")
    return 301, [(b"location", location.encode("latin-1"))], b""


def route_matches(router: Router, scope: MutableMapping[str, Any]) -> bool:
    """Whether a route matches path and method (mux's middlewares run only then)."""
    return any(route.matches(scope)[0] is Match.FULL for route in router.routes)
