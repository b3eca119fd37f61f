"""Hand requests for a root-mounted Starlette app (e.g. Gradio) straight to it.

With `app.mount("", sub)` every request the app's own routes do not claim still runs through
the outer app's error, exception and exit-stack middlewares and its router before reaching
`sub`, which has the same middlewares itself. The shortcut routes such requests as the outer
router would (the mount's child scope), minus the duplicated outer layers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send


class RootMountShortcut:
    """`stack` (the outer app) for paths its own routes may claim, else the root mount."""

    def __init__(
        self, stack: ASGIApp, app: FastAPI, prefix: str, own: list[re.Pattern[str]], mount: Mount
    ) -> None:
        self.stack = stack
        self.router = app.router
        self.routes = app.router.routes
        self.count = len(self.routes)  # routes added later: leave everything to the router
        self.prefix = prefix
        self.own = own
        self.mount = mount

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A root_path (proxy prefix) changes what routes match against: leave it to the router.
        if (
            scope["type"] in ("http", "websocket")
            and not scope.get("root_path")
            and len(self.routes) == self.count
        ):
            path: str = scope["path"]
            if not path.startswith(self.prefix) and not any(rx.match(path) for rx in self.own):
                match, child = self.mount.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self.router)
                    scope.update(child)
                    await self.mount.app(scope, receive, send)
                    return
        await self.stack(scope, receive, send)


def shortcut_root_mount(
    app: FastAPI, stack: ASGIApp, prefixed: Sequence[BaseRoute], prefix: str
) -> ASGIApp:
    """Wrap `stack` in a RootMountShortcut when that changes nothing but speed.

    `prefixed` are route entries known to serve only paths under `prefix` (an included router).
    That is: the last route is a Starlette app mounted at "" (it handles its own errors), the
    outer app has no user middleware, and every other route is in `prefixed` or a path route
    (its regex tells which paths it may claim, whatever the method).
    """
    routes = app.router.routes
    if not routes or app.user_middleware:
        return stack
    mount = routes[-1]
    if not (isinstance(mount, Mount) and mount.path == "" and isinstance(mount.app, Starlette)):
        return stack
    known = {id(route) for route in prefixed}
    own: list[re.Pattern[str]] = []
    for route in routes[:-1]:
        if id(route) in known:
            continue
        rx = getattr(route, "path_regex", None)
        if not isinstance(rx, re.Pattern):
            return stack
        own.append(rx)
    return RootMountShortcut(stack, app, prefix, own, mount)
