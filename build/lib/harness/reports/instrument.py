"""Time backend operations of the plugin's clients into the latency recorder (observing only)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from harness.reports.latency import RECORDER, Recorder

_ID_LIKE = re.compile(r"^\d+$|^(?=.*\d).{5,}$|^.{25,}$")  # numbers, names with digits, long


def operation_name(method: str, path: str) -> str:
    """`POST /api/v2/tenants/*/databases/tests/collections` — ids and names with digits as `*`."""
    parts = ["*" if _ID_LIKE.search(part) else part for part in path.strip("/").split("/")]
    return f"{method} /{'/'.join(parts)}"


def httpx_hooks(backend: str, recorder: Recorder = RECORDER) -> dict[str, list[Callable[..., Any]]]:
    """httpx `event_hooks` that time each request until its response headers arrive."""

    def started(request: httpx.Request) -> None:
        request.extensions["harness_started"] = (time.perf_counter(), recorder.faulted())

    def finished(response: httpx.Response) -> None:
        began = response.request.extensions.get("harness_started")
        if began is None:
            return
        at, faulted = began
        operation = operation_name(response.request.method, response.request.url.path)
        recorder.record(backend, operation, time.perf_counter() - at, faulted or recorder.faulted())

    return {"request": [started], "response": [finished]}


def observe_httpx(client: httpx.Client, backend: str) -> httpx.Client:
    """Add the timing hooks to an existing httpx client (its other hooks stay)."""
    hooks = httpx_hooks(backend)
    client.event_hooks = {
        name: [*client.event_hooks.get(name, []), *hooks[name]] for name in ("request", "response")
    }
    return client


def observe_redis(client: Any) -> Any:
    """Time each command of a redis-py client (backend `redis`); its type stays `redis.Redis`."""
    execute = client.execute_command

    def execute_command(*args: Any, **options: Any) -> Any:
        faulted = RECORDER.faulted()
        began = time.perf_counter()
        try:
            return execute(*args, **options)
        finally:
            name = str(args[0]).upper() if args else "?"
            elapsed = time.perf_counter() - began
            RECORDER.record("redis", name, elapsed, faulted or RECORDER.faulted())

    client.execute_command = execute_command
    return client


def observe_chroma(client: Any) -> Any:
    """Time the requests of a chromadb HttpClient (its httpx session), when it has one."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        observe_httpx(session, "chromadb")
    return client
