"""The HTTP fault layer through real clients (httpx, websockets): bytes pass unchanged, rules hit
the requests they match and do what they say, the journal records each exchange."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect

from harness import wait_for
from tests.unit.httpfaults.conftest import Route


def _seen(route: Route) -> int:
    return int(httpx.get(f"{route.url}/echo").json()["seen"])


def test_bytes_pass_unchanged_and_the_journal_records_each_exchange(route: Route) -> None:
    big = httpx.get(f"{route.url}/big", params={"kb": 512})
    assert big.content == bytes(range(256)) * 2048
    body = b'{"model":"gpt-4o"}'
    posted = httpx.post(f"{route.url}/echo", content=body, headers={"X-Trace": "1"})
    assert posted.json()["body"] == '{"model":"gpt-4o"}'
    first, second = route.journal()
    assert (first["method"], first["path"], first["status"]) == ("GET", "/big", 200)
    assert first["response_bytes"] == 512 * 1024 and len(first["response_body"]) <= 1024
    assert (second["method"], second["target"], second["status"]) == ("POST", "/echo", 200)
    assert second["request_body"] == '{"model":"gpt-4o"}'
    assert ["X-Trace", "1"] in second["request_headers"]
    assert second["fault"] is None and second["outcome"] == "complete"
    assert second["seq"] > first["seq"] and second["duration_ms"] >= second["ttfb_ms"] > 0
    assert [e["seq"] for e in route.journal(after=first["seq"])] == [second["seq"]]


def test_a_status_answers_the_next_n_matching_requests_in_the_backends_place(route: Route) -> None:
    rule = route.fault(status=429, headers={"Retry-After": "2"}, method="POST",
                       path="/v1/chat/completions", times=2)  # fmt: skip
    before = _seen(route)
    with httpx.Client(base_url=route.url) as client:  # one kept-alive connection throughout
        got = [client.post("/v1/chat/completions", json={}) for _ in range(3)]
        assert client.get("/echo").status_code == 200  # not matched
    assert [r.status_code for r in got] == [429, 429, 200]
    assert got[0].headers["retry-after"] == "2"
    assert got[0].json()["error"]["type"] == "harness_fault"
    assert _seen(route) == before + 3  # the backend saw the third POST and the GET only
    faults = httpx.get(f"{route.api}/faults").json()
    assert faults == [{**rule, "matched": 2, "hits": 2}]
    touched = [e for e in route.journal() if e["fault"]]
    assert [(e["status"], e["fault"]["rule"], e["outcome"]) for e in touched] == [
        (429, rule["id"], "answered")
    ] * 2


def test_every_nth_and_a_drawn_probability_are_reproducible(
    layer: str, backend: str, route: Route
) -> None:
    route.fault(status=503, every=3, path="/echo")
    assert [httpx.get(f"{route.url}/echo").status_code for _ in range(6)] == [200, 200, 503] * 2

    def pattern() -> list[int]:
        httpx.delete(route.api)  # the same route made again: its rules start from r1
        made = httpx.post(f"{layer}/routes", json={"name": route.name, "upstream": backend})
        route.url = f"http://127.0.0.1:{made.json()['port']}"
        route.fault(status=500, probability=0.5, seed=42)
        return [httpx.get(f"{route.url}/echo").status_code for _ in range(30)]

    first = pattern()
    assert 0 < first.count(500) < 30
    assert pattern() == first  # the same seed, route and rule: the same draws


@pytest.mark.parametrize(
    ("rule", "hit", "missed"),
    [
        ({"path": "/v1/*"}, ("POST", "/v1/chat/completions", {}, b"{}"),
         ("POST", "/echo", {}, b"")),
        ({"path_regex": r"^/e.ho$"}, ("GET", "/echo", {}, b""), ("GET", "/big?kb=1", {}, b"")),
        ({"match_headers": {"x-tenant": "a*"}}, ("GET", "/echo", {"X-Tenant": "acme"}, b""),
         ("GET", "/echo", {"X-Tenant": "bee"}, b"")),
        ({"body_contains": '"model": "gpt-4o"'},
         ("POST", "/echo", {}, b'{"model": "gpt-4o", "n": 1}'),
         ("POST", "/echo", {}, b'{"model": "claude", "n": 1}')),
        ({"method": "put"}, ("PUT", "/echo", {}, b"x"), ("POST", "/echo", {}, b"x")),
    ],
)  # fmt: skip
def test_rules_match_on_method_path_header_and_body(
    route: Route, rule: dict[str, object], hit: tuple, missed: tuple
) -> None:
    route.fault(status=418, **rule)
    for (method, path, headers, body), expected in ((missed, 200), (hit, 418)):
        got = httpx.request(method, f"{route.url}{path}", headers=headers, content=body)
        assert got.status_code == expected, (method, path)


def test_a_delay_holds_the_response_and_the_journal_shows_it(route: Route) -> None:
    route.fault(delay_ms=300, times=1)
    began = time.monotonic()
    assert httpx.get(f"{route.url}/echo").status_code == 200
    assert time.monotonic() - began >= 0.3
    (entry,) = route.journal()
    assert entry["ttfb_ms"] >= 300 and entry["fault"]["action"] == "delay"


def test_delays_between_chunks_and_a_slow_body_stretch_the_body(route: Route) -> None:
    route.fault(delay_ms=100, delay_at="chunks", path="/chunks", times=1)
    began = time.monotonic()
    assert httpx.get(f"{route.url}/chunks", params={"n": 4}).text.count("chunk") == 4
    assert time.monotonic() - began >= 0.4
    route.fault(body_rate=8000, path="/big", times=1)
    began = time.monotonic()
    assert len(httpx.get(f"{route.url}/big", params={"kb": 4}).content) == 4096
    assert time.monotonic() - began >= 0.45


def test_a_reset_before_the_headers_loses_the_response_of_a_request_the_backend_served(
    route: Route,
) -> None:
    before = _seen(route)
    route.fault(reset="before_headers", times=1, method="POST")
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{route.url}/echo", json={"n": 1})
    assert _seen(route) == before + 2  # it reached the backend; the next GET did too
    assert [e["outcome"] for e in route.journal() if e["fault"]] == ["reset"]


def test_a_reset_after_the_headers_breaks_the_body(route: Route) -> None:
    route.fault(reset="after_headers", times=1)
    with httpx.stream("GET", f"{route.url}/big", params={"kb": 64}) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.TransportError):
            response.read()
    assert httpx.get(f"{route.url}/echo").status_code == 200  # the next connection is fine


def test_a_truncated_body_and_a_corrupted_one(route: Route) -> None:
    route.fault(truncate=100, path="/big", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{route.url}/big", params={"kb": 8})
    route.fault(corrupt=True, path="/echo", times=1)
    got = httpx.get(f"{route.url}/echo")
    assert got.status_code == 200 and len(got.content) == int(got.headers["content-length"])
    with pytest.raises(json.JSONDecodeError):
        got.json()
    assert [e["outcome"] for e in route.journal() if e["fault"]] == ["truncated", "complete"]


def test_a_hang_holds_requests_until_the_rule_is_cleared(route: Route) -> None:
    rule = route.fault(hang=True, path="/echo")
    results: list[int] = []
    waiting = threading.Thread(
        target=lambda: results.append(httpx.get(f"{route.url}/echo", timeout=30).status_code)
    )
    waiting.start()
    wait_for(lambda: httpx.get(f"{route.api}/faults").json()[0]["hits"] == 1, 10, "the hang")
    assert results == [] and waiting.is_alive()
    httpx.delete(f"{route.api}/faults/{rule['id']}")
    waiting.join(10)
    assert results == [200]


def _events(response: httpx.Response) -> list[str]:
    return [line.removeprefix("id: ") for line in response.iter_lines() if line.startswith("id:")]


def test_an_sse_stream_cut_after_n_events_resumes_with_last_event_id(route: Route) -> None:
    route.fault(cut_after=2, path="/sse", times=1)
    seen: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("GET", f"{route.url}/sse", params={"n": 5}) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("id:"):
                seen.append(line.removeprefix("id: "))
    assert seen == ["1", "2"]
    headers = {"Last-Event-ID": seen[-1]}
    with httpx.stream("GET", f"{route.url}/sse", params={"n": 5}, headers=headers) as response:
        assert _events(response) == ["3", "4", "5"]
    cut, resumed = route.journal()
    assert (cut["outcome"], resumed["outcome"]) == ("cut", "complete")
    assert ["Last-Event-ID", "2"] in resumed["request_headers"]


def test_a_chunked_body_cut_after_n_chunks(route: Route) -> None:
    route.fault(cut_after=2, path="/chunks")
    got = b""
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("GET", f"{route.url}/chunks", params={"n": 5}) as response,
    ):
        for piece in response.iter_bytes():
            got += piece
    assert got == b"chunk 0;chunk 1;"


def test_websockets_pass_through_and_a_cut_after_n_messages(route: Route) -> None:
    ws_url = route.url.replace("http://", "ws://")
    with connect(f"{ws_url}/ws?n=4") as socket:
        assert [socket.recv() for _ in range(4)] == [f"message {n}" for n in range(4)]
    route.fault(cut_after=2, path="/ws")
    received = []
    with pytest.raises(ConnectionClosedError), connect(f"{ws_url}/ws?n=4") as socket:
        while True:
            received.append(socket.recv())
    assert received == ["message 0", "message 1"]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"status": 700}, "status: Input should be less than or equal to 599"),
        ({"status": 500, "path_regex": "("}, "path_regex: path_regex '(' is not a regex"),
        ({"status": 500, "probability": 1.5},
         "probability: Input should be less than or equal to 1"),
        ({"path": "/x"}, "a fault needs one of"),
        ({"status": 500, "hang": True}, "one action per fault"),
    ],
)  # fmt: skip
def test_bad_rules_are_refused_with_one_line(route: Route, rule: dict, message: str) -> None:
    refused = httpx.post(f"{route.api}/faults", json=rule)
    assert refused.status_code == 422 and message in refused.json()["error"]
    assert httpx.get(f"{route.api}/faults").json() == []
