"""Control plane (mocks/_control) seen through httpx against the echo service subprocess."""

from __future__ import annotations

import asyncio
import json
import time
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
        a.post("/__harness/faults", json={"status": 500})
        a.get("/echo")
        assert a.get("/echo").status_code == 500
        assert b.get("/echo").status_code == 200
        assert len(a.get("/__harness/requests").json()) == 2
        assert [e["status"] for e in b.get("/__harness/requests").json()] == [200]
        assert b.get("/__harness/faults").json() == []


def test_status_fault_for_next_n_requests(client: httpx.Client) -> None:
    rule = client.post("/__harness/faults", json={"status": 503, "times": 2})
    assert rule.status_code == 201
    body = rule.json()
    assert body["status"] == 503 and body["times"] == 2 and body["id"]
    first = client.get("/echo")
    assert first.status_code == 503
    assert first.json()["error"]["rule"] == body["id"]
    assert client.get("/items/3").status_code == 503
    assert client.get("/echo").status_code == 200
    assert client.get("/__harness/faults").json() == []
    statuses = [e["status"] for e in client.get("/__harness/requests").json()]
    assert statuses == [503, 503, 200]


def test_path_regex_and_method_scope_a_rule(client: httpx.Client) -> None:
    client.post("/__harness/faults", json={"status": 418, "path": r"^/items/\d+$", "method": "get"})
    assert client.get("/items/5").status_code == 418
    assert client.get("/echo").status_code == 200
    assert client.post("/echo").status_code == 200
    assert client.get("/items/6").status_code == 418  # no `times`: stays active
    assert len(client.get("/__harness/faults").json()) == 1


def test_fixed_delay(client: httpx.Client) -> None:
    client.post("/__harness/faults", json={"delay_ms": 300, "times": 1})
    t0 = time.monotonic()
    r = client.get("/echo")
    assert r.status_code == 200
    assert time.monotonic() - t0 >= 0.3
    assert client.get("/__harness/faults").json() == []


def test_random_delay_bounds(client: httpx.Client) -> None:
    client.post("/__harness/faults", json={"delay_ms": 100, "delay_max_ms": 200, "times": 3})
    for _ in range(3):
        t0 = time.monotonic()
        assert client.get("/echo").status_code == 200
        assert time.monotonic() - t0 >= 0.1


def test_malformed_body_keeps_status_and_content_type(client: httpx.Client) -> None:
    good = client.get("/echo").content
    client.post("/__harness/faults", json={"malformed": True, "times": 1})
    r = client.get("/echo")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.content != good
    assert r.content.startswith(good[: len(good) // 2])
    with pytest.raises(json.JSONDecodeError):
        r.json()
    assert client.get("/echo").json()["method"] == "GET"


def test_malformed_status_fault_body(client: httpx.Client) -> None:
    client.post("/__harness/faults", json={"status": 502, "malformed": True, "times": 1})
    r = client.get("/echo")
    assert r.status_code == 502
    with pytest.raises(json.JSONDecodeError):
        r.json()


def test_drop_closes_connection_without_response(client: httpx.Client) -> None:
    client.post("/__harness/faults", json={"drop": True, "times": 1, "path": "^/echo$"})
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/echo")
    assert client.get("/echo").status_code == 200
    entries = client.get("/__harness/requests", params={"path": "/echo"}).json()
    assert [e["status"] for e in entries] == [0, 200]
    assert "fault" in entries[0] and "fault" not in entries[1]


def test_fraction_is_roughly_honoured(client: httpx.Client) -> None:
    client.post("/__harness/faults", json={"status": 500, "fraction": 0.5})
    codes = [client.get("/echo").status_code for _ in range(200)]
    assert 60 <= codes.count(500) <= 140
    assert set(codes) == {200, 500}


def _fraction_pattern(base: str, ns: str) -> list[int]:
    with httpx.Client(base_url=base, headers={H: ns}) as c:
        c.post("/__harness/reset")
        c.post("/__harness/faults", json={"status": 500, "fraction": 0.5})
        return [c.get("/echo").status_code for _ in range(64)]


def test_seeded_rng_makes_fractions_reproducible(mock_server: Callable[..., str]) -> None:
    first = mock_server("_control", "--seed", "42")
    second = mock_server("_control", "--seed", "42")
    other = mock_server("_control", "--seed", "43")
    pattern = _fraction_pattern(first, "seeded")
    assert pattern == _fraction_pattern(second, "seeded")
    assert pattern == _fraction_pattern(first, "seeded")  # reset restarts the RNG
    assert pattern != _fraction_pattern(other, "seeded")


def test_delete_fault_rules(client: httpx.Client) -> None:
    a = client.post("/__harness/faults", json={"status": 500}).json()["id"]
    client.post("/__harness/faults", json={"status": 501})
    assert client.delete(f"/__harness/faults/{a}").json() == {"deleted": a}
    assert client.delete(f"/__harness/faults/{a}").status_code == 404
    assert client.get("/echo").status_code == 501
    assert client.delete("/__harness/faults").json() == {"deleted": 1}
    assert client.get("/echo").status_code == 200


@pytest.mark.parametrize(
    "spec",
    [{}, {"path": "("}, {"status": 99}, {"fraction": 1.5}, {"delay_ms": 5, "delay_max_ms": 1}],
)
def test_invalid_fault_specs_are_rejected(client: httpx.Client, spec: dict[str, object]) -> None:
    assert client.post("/__harness/faults", json=spec).status_code == 422
    assert client.get("/__harness/faults").json() == []


def test_control_routes_are_not_faulted_or_journaled(client: httpx.Client) -> None:
    client.post("/__harness/faults", json={"status": 500})
    assert client.get("/__harness/health").status_code == 200
    assert client.get("/__harness/requests").json() == []


def test_reset_clears_only_the_callers_namespace(base: str, namespace: str) -> None:
    with (
        httpx.Client(base_url=base, headers={H: namespace}) as a,
        httpx.Client(base_url=base, headers={H: namespace + "-other"}) as b,
    ):
        for c in (a, b):
            c.get("/echo")
            c.post("/__harness/faults", json={"delay_ms": 1})
            c.post("/__harness/flags", json={"k": 1})
        assert a.post("/__harness/reset").json() == {"reset": namespace}
        assert a.get("/__harness/requests").json() == []
        assert a.get("/__harness/faults").json() == []
        assert a.get("/__harness/flags").json() == {}
        state = a.get("/state").json()
        assert state["counts"] == {}
        assert state["resets"][namespace] == 1
        assert b.get("/state").json()["counts"] == {"echo": 1}
        assert len(b.get("/__harness/faults").json()) == 1
        assert b.get("/__harness/flags").json() == {"k": 1}


def test_flags_merge_and_delete(client: httpx.Client) -> None:
    assert client.post("/__harness/flags", json={"a": 1, "b": "x"}).json() == {"a": 1, "b": "x"}
    assert client.post("/__harness/flags", json={"a": None}).json() == {"b": "x"}


def test_websocket_journal_and_rejection_fault(base: str, namespace: str) -> None:
    url = base.replace("http://", "ws://") + "/ws"
    ws = websocket.create_connection(url, header=[f"{H}: {namespace}"], timeout=10)
    ws.send("hi")
    assert ws.recv() == "hi"
    ws.close()
    with httpx.Client(base_url=base, headers={H: namespace}) as c:
        c.post("/__harness/faults", json={"status": 503, "path": "^/ws$", "times": 1})
        with pytest.raises(websocket.WebSocketBadStatusException) as exc:
            websocket.create_connection(url, header=[f"{H}: {namespace}"], timeout=10)
        assert exc.value.status_code == 503
        entries = c.get("/__harness/requests", params={"method": "WEBSOCKET"}).json()
        assert [e["status"] for e in entries] == [101, 503]


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
