"""`harness.reports.observe`: the project's own clients timed into the report, through the real
client libraries against a real local HTTP server and a real SQLite database."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import requests

from harness.reports import observe
from harness.reports._latency import RECORDER


class _Items(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Items)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def recorder() -> Iterator[None]:
    RECORDER.begin()
    yield
    RECORDER.begin()


def _taken() -> list[tuple[str, str, bool]]:
    samples = RECORDER.drain()
    assert all(sample[2] >= 0 for sample in samples)
    return [(backend, operation, faulted) for backend, operation, _, faulted in samples]


def test_a_requests_session_keeps_its_type_and_is_timed(server: str) -> None:
    session = requests.Session()
    assert observe(session, "api") is session
    assert session.get(f"{server}/items/1234").json() == {"ok": True}
    assert session.post(f"{server}/health", allow_redirects=False).status_code == 501
    assert _taken() == [("api", "GET /items/*", False), ("api", "POST /health", False)]


def test_an_httpx_client_sync_or_async_is_timed(server: str) -> None:
    with observe(httpx.Client(), "api") as client:
        assert client.get(f"{server}/v1/jobs").status_code == 200

    async def fetch() -> int:
        async with observe(httpx.AsyncClient(), "worker") as client:
            return (await client.get(f"{server}/queue")).status_code

    assert asyncio.run(fetch()) == 200
    assert _taken() == [("api", "GET /v1/jobs", False), ("worker", "GET /queue", False)]


def test_samples_taken_while_a_fault_is_active_are_marked(server: str) -> None:
    RECORDER.begin(faulted=lambda: True)
    observe(requests.Session(), "api").get(f"{server}/items")
    assert _taken() == [("api", "GET /items", True)]


def test_a_dbapi_connection_is_wrapped_and_still_works() -> None:
    connection = observe(sqlite3.connect(":memory:"), "catalog")
    connection.execute("CREATE TABLE shows (title TEXT)")
    cursor = connection.cursor()
    cursor.executemany("INSERT INTO shows VALUES (?)", [("a",), ("b",)])
    rows = cursor.execute("select title from shows order by title").fetchall()
    assert rows == [("a",), ("b",)]
    with connection:  # sqlite3's transaction context still commits
        connection.execute("DELETE FROM shows")
    assert _taken() == [
        ("catalog", "CREATE", False),
        ("catalog", "INSERT", False),
        ("catalog", "SELECT", False),
        ("catalog", "DELETE", False),
    ]


def test_anything_else_is_one_line_naming_what_it_takes() -> None:
    with pytest.raises(TypeError, match=r"observe\(\) takes a requests Session.*not builtins.dict"):
        observe({}, "api")
