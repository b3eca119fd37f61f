"""Control plane (mocks/_control) seen through httpx against the echo service subprocess."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator

import httpx
import pytest
import websocket

from harness.mocks import NAMESPACE_HEADER as H
from harness.mocks._control._echo import create_app


@pytest.fixture(scope="module")
def base(mock_server_module: Callable[..., str]) -> str:
    return mock_server_module("_control", "--seed", "7")


@pytest.fixture
def client(base: str, namespace: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, headers={H: namespace}, timeout=10) as c:
        yield c


def test_health_reports_service(client: httpx.Client) -> None:
    r = client.get("/__harness/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "service": "echo"}


def test_journal_records_requests_oldest_first_and_filters(client: httpx.Client) -> None:
    client.get("/items/1", params={"a": "b"})
    client.post("/echo", content=b'{"x": 1}', headers={"Content-Type": "application/json"})
    client.get("/items/2")
    entries = client.get("/__harness/requests").json()
    assert [(e["method"], e["path"]) for e in entries] == [
        ("GET", "/items/1"),
        ("POST", "/echo"),
        ("GET", "/items/2"),
    ]
    first, post = entries[0], entries[1]
    assert first["query"] == "a=b"
    assert first["status"] == 200
    assert isinstance(first["time"], float)
    assert post["body"] == '{"x": 1}'
    assert post["headers"]["content-type"] == "application/json"
    assert len(client.get("/__harness/requests", params={"path": "/echo"}).json()) == 1
    assert len(client.get("/__harness/requests", params={"method": "get"}).json()) == 2
    only = client.get("/__harness/requests", params={"path_regex": r"^/items/\d$"}).json()
    assert [e["path"] for e in only] == ["/items/1", "/items/2"]
    assert client.delete("/__harness/requests").json() == {"deleted": 3}
    assert client.get("/__harness/requests").json() == []


def test_journal_is_capped_per_namespace(client: httpx.Client) -> None:
    for i in range(510):
        client.get(f"/items/{i}")
    entries = client.get("/__harness/requests").json()
    assert len(entries) == 500
    assert entries[0]["path"] == "/items/10"
    assert entries[-1]["path"] == "/items/509"


def test_namespaces_are_isolated(base: str, namespace: str) -> None:
    with (
        httpx.Client(base_url=base, headers={H: namespace + "-a"}) as a,
        httpx.Client(base_url=base, headers={H: namespace + "-b"}) as b,
    ):
        a.post("/__harness/flags", json={"k": 1})
        a.get("/echo")
        assert a.get("/echo").json()["ns"] == namespace + "-a"
        assert b.get("/echo").json()["ns"] == namespace + "-b"
        assert len(a.get("/__harness/requests").json()) == 2
        assert [e["status"] for e in b.get("/__harness/requests").json()] == [200]
        assert a.get("/__harness/flags").json() == {"k": 1}
        assert b.get("/__harness/flags").json() == {}


def test_control_routes_are_not_journaled(client: httpx.Client) -> None:
    client.post("/__harness/flags", json={"k": 1})
    assert client.get("/__harness/health").status_code == 200
    assert client.get("/__harness/requests").json() == []


def test_reset_clears_only_the_callers_namespace(base: str, namespace: str) -> None:
    with (
        httpx.Client(base_url=base, headers={H: namespace}) as a,
        httpx.Client(base_url=base, headers={H: namespace + "-other"}) as b,
    ):
        for c in (a, b):
            c.get("/echo")
            c.post("/__harness/flags", json={"k": 1})
        assert a.post("/__harness/reset").json() == {"reset": namespace}
        assert a.get("/__harness/requests").json() == []
        assert a.get("/__harness/flags").json() == {}
        state = a.get("/state").json()
        assert state["counts"] == {}
        assert state["resets"][namespace] == 1
        assert b.get("/state").json()["counts"] == {"echo": 1}
        assert b.get("/__harness/flags").json() == {"k": 1}


def test_flags_merge_and_delete(client: httpx.Client) -> None:
    assert client.post("/__harness/flags", json={"a": 1, "b": "x"}).json() == {"a": 1, "b": "x"}
    assert client.post("/__harness/flags", json={"a": None}).json() == {"b": "x"}


def test_websocket_journal(base: str, namespace: str) -> None:
    url = base.replace("http://", "ws://") + "/ws"
    ws = websocket.create_connection(url, header=[f"{H}: {namespace}"], timeout=10)
    ws.send("hi")
    assert ws.recv() == "hi"
    ws.close()
    with httpx.Client(base_url=base, headers={H: namespace}) as c:
        entries = c.get("/__harness/requests", params={"method": "WEBSOCKET"}).json()
        assert [(e["path"], e["status"]) for e in entries] == [("/ws", 101)]
        assert "fault" not in entries[0]


def test_mocks_have_no_fault_routes(client: httpx.Client) -> None:
    """HTTP faults belong to the HTTP fault layer in front of the mock, not to the mock."""
    assert client.post("/__harness/faults", json={"status": 500}).status_code == 404
    assert client.get("/__harness/faults").status_code == 404
    assert client.get("/echo").status_code == 200


def test_one_json_log_line_per_request(capsys: pytest.CaptureFixture[str]) -> None:
    async def call() -> None:
        transport = httpx.ASGITransport(app=create_app(seed=1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            capsys.readouterr()
            await c.get("/items/9", headers={H: "logns"})

    asyncio.run(call())
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert len(lines) == 1
    line = lines[0]
    assert (line["service"], line["ns"], line["method"], line["path"], line["status"]) == (
        "echo",
        "logns",
        "GET",
        "/items/9",
        200,
    )
    assert line["ms"] >= 0
