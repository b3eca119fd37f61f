"""Time backend operations into the latency recorder (observing only): the plugin's own
clients, and with `observe(client, backend)` any client of the project's own."""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx

from harness.reports._latency import RECORDER, Recorder

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


def observe_redis(client: Any, backend: str = "redis") -> Any:
    """Time each command of a redis-py client; its type stays `redis.Redis`."""
    execute = client.execute_command

    def execute_command(*args: Any, **options: Any) -> Any:
        faulted = RECORDER.faulted()
        began = time.perf_counter()
        try:
            return execute(*args, **options)
        finally:
            name = str(args[0]).upper() if args else "?"
            elapsed = time.perf_counter() - began
            RECORDER.record(backend, name, elapsed, faulted or RECORDER.faulted())

    client.execute_command = execute_command
    return client


def observe_chroma(client: Any, backend: str = "chromadb") -> Any:
    """Time the requests of a chromadb HttpClient (its httpx session), when it has one."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        observe_httpx(session, backend)
    return client


Client = TypeVar("Client")


def observe(client: Client, backend: str) -> Client:
    """Time every operation of one of the project's own clients into the run's report, under
    `backend`, beside the samples of the harness's fixtures; returns the client to use.

    Takes a `requests.Session`, an `httpx.Client` or `httpx.AsyncClient`, a redis-py client, a
    chromadb `HttpClient`, or a DB-API connection (psycopg, psycopg2, sqlite3, pg8000, ...).
    Each keeps its type, except a DB-API connection without a settable `cursor_factory`
    (sqlite3, pg8000): that one comes back wrapped, so use the returned object.
    """
    library = type(client).__module__.split(".")[0]
    if isinstance(client, httpx.AsyncClient):
        return _observe_async_httpx(client, backend)  # type: ignore[return-value]
    if isinstance(client, httpx.Client):
        return observe_httpx(client, backend)  # type: ignore[return-value]
    if library == "requests" and hasattr(client, "hooks"):
        return _observe_requests(client, backend)
    if library == "redis":
        return observe_redis(client, backend)  # type: ignore[no-any-return]
    if library == "chromadb":
        return observe_chroma(client, backend)  # type: ignore[no-any-return]
    if callable(getattr(client, "cursor", None)):
        return _observe_dbapi(client, backend)
    raise TypeError(
        f"observe() takes a requests Session, an httpx client, a redis-py or chromadb client, "
        f"or a DB-API connection, not {type(client).__module__}.{type(client).__qualname__}"
    )


def _observe_requests(session: Client, backend: str) -> Client:
    """A response hook: `response.elapsed` is the time from sending to the response headers."""

    def finished(response: Any, *args: Any, **kwargs: Any) -> Any:
        path = httpx.URL(response.request.url).path
        operation = operation_name(response.request.method, path)
        RECORDER.record(backend, operation, response.elapsed.total_seconds(), RECORDER.faulted())
        return response

    session.hooks.setdefault("response", []).append(finished)  # type: ignore[attr-defined]
    return session


def _observe_async_httpx(client: httpx.AsyncClient, backend: str) -> httpx.AsyncClient:
    """httpx_hooks for an AsyncClient, whose event hooks must be coroutines."""
    sync = httpx_hooks(backend)

    def wrapped(hook: Callable[..., Any]) -> Callable[..., Any]:
        async def call(value: Any) -> None:
            hook(value)

        return call

    client.event_hooks = {
        name: [*client.event_hooks.get(name, []), *map(wrapped, sync[name])]
        for name in ("request", "response")
    }
    return client


def _statement(operation: Any) -> str:
    """The SQL verb of a statement (`SELECT`, `INSERT`, ...), as the operation's name."""
    text = operation.decode(errors="replace") if isinstance(operation, bytes) else str(operation)
    words = re.findall(r"[A-Za-z]+", text)
    return words[0].upper() if words else "SQL"


@contextmanager
def _timed(backend: str, operation: Any) -> Iterator[None]:
    faulted = RECORDER.faulted()
    began = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - began
        RECORDER.record(backend, _statement(operation), elapsed, faulted or RECORDER.faulted())


def _observe_dbapi(connection: Client, backend: str) -> Client:
    factory: Any = getattr(connection, "cursor_factory", _NO_FACTORY)
    if factory is _NO_FACTORY:
        return ObservedConnection(connection, backend)  # type: ignore[return-value]
    if factory is None:  # psycopg2's default: its own cursor class
        import psycopg2.extensions

        factory = psycopg2.extensions.cursor
    setattr(connection, "cursor_factory", _timed_cursor_class(factory, backend))  # noqa: B010
    return connection


_NO_FACTORY = object()


def _timed_cursor_class(base: type, backend: str) -> type:
    """`base` (psycopg's or psycopg2's cursor class) with execute/executemany timed."""
    if inspect.iscoroutinefunction(getattr(base, "execute", None)):  # psycopg's AsyncCursor

        class AsyncTimedCursor(base):  # type: ignore[misc]
            async def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                with _timed(backend, query):
                    return await super().execute(query, *args, **kwargs)

            async def executemany(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                with _timed(backend, query):
                    return await super().executemany(query, *args, **kwargs)

        return AsyncTimedCursor

    class TimedCursor(base):  # type: ignore[misc]
        def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            with _timed(backend, query):
                return super().execute(query, *args, **kwargs)

        def executemany(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            with _timed(backend, query):
                return super().executemany(query, *args, **kwargs)

    return TimedCursor


class ObservedCursor:
    """A DB-API cursor whose execute/executemany are timed; everything else is the cursor's."""

    def __init__(self, cursor: Any, backend: str) -> None:
        self._cursor, self._backend = cursor, backend

    def execute(self, operation: Any, *args: Any, **kwargs: Any) -> Any:
        with _timed(self._backend, operation):
            result = self._cursor.execute(operation, *args, **kwargs)
        return self if result is self._cursor else result  # sqlite3 chains on the cursor

    def executemany(self, operation: Any, *args: Any, **kwargs: Any) -> Any:
        with _timed(self._backend, operation):
            result = self._cursor.executemany(operation, *args, **kwargs)
        return self if result is self._cursor else result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)

    def __enter__(self) -> ObservedCursor:
        self._cursor.__enter__()
        return self

    def __exit__(self, *exc: object) -> Any:
        return self._cursor.__exit__(*exc)


class ObservedConnection:
    """A DB-API connection whose cursors (and `execute` shortcut, where it has one) are timed."""

    def __init__(self, connection: Any, backend: str) -> None:
        self._connection, self._backend = connection, backend

    def cursor(self, *args: Any, **kwargs: Any) -> ObservedCursor:
        return ObservedCursor(self._connection.cursor(*args, **kwargs), self._backend)

    def execute(self, operation: Any, *args: Any, **kwargs: Any) -> Any:
        with _timed(self._backend, operation):
            return self._connection.execute(operation, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __enter__(self) -> ObservedConnection:
        self._connection.__enter__()
        return self

    def __exit__(self, *exc: object) -> Any:
        return self._connection.__exit__(*exc)
