"""The harness's side of the layer, against the layer process: `HttpFault` applies and clears a
rule (reporting its hits as events), `Journal` reads a route from a mark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from harness import _events
from harness._httpfaults import HttpFaultsClient, HttpFaultsError
from harness._journal import Journal
from harness.faults import FaultError
from harness.faults.http import HttpFault, check, leftovers
from tests.unit.httpfaults.conftest import Route
from tests.unit.mocks.conftest import free_port


@pytest.fixture
def client(layer: str) -> HttpFaultsClient:
    return HttpFaultsClient(layer)


def test_a_fault_applies_reports_its_hits_and_clears(
    client: HttpFaultsClient, route: Route, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "events.jsonl"
    monkeypatch.setenv(_events.ENV, str(log))
    httpx.get(f"{route.url}/echo")  # before the fault: not its hit
    fault = HttpFault(client, "backend", route.name, {"status": 503, "retry_after": 2, "times": 1})
    with fault:
        assert leftovers(client, [route.name]) == [f"{route.name}: http rule {fault.rule_id}"]
        got = [httpx.get(f"{route.url}/echo") for _ in range(2)]
        assert fault.hits() == 1
    assert [r.status_code for r in got] == [503, 200] and got[0].headers["retry-after"] == "2"
    assert leftovers(client, [route.name]) == []
    hits = [
        e for e in map(json.loads, log.read_text().splitlines()) if e["kind"] == "http fault hit"
    ]
    assert [(h["status"], h["action"], h["path"]) for h in hits] == [(503, "status", "/echo")]


def test_a_refused_rule_is_one_line_and_nothing_is_applied(
    client: HttpFaultsClient, route: Route
) -> None:
    fault = HttpFault(client, "backend", route.name, {"status": 500, "match_headers": {"a": "b"}})
    fault.rule["unknown"] = 1  # past the harness's own checks: the layer refuses it
    with pytest.raises(FaultError, match=r"^HTTP fault on backend: unknown: Extra inputs"):
        fault.apply()
    assert not fault.active and client.faults(route.name) == []
    with pytest.raises(HttpFaultsError, match="no route nowhere"):
        client.faults("nowhere")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"retry_after": 2}, "retry_after goes with a status"),
        ({"status": 99}, "status must be 100..599, got 99"),
        ({"status": 500, "probability": -0.1}, "probability must be within 0..1"),
        ({"truncate": 5, "corrupt": True}, "one action per HTTP fault"),
    ],
)
def test_the_harness_checks_a_rule_before_sending_it(rule: dict, message: str) -> None:
    with pytest.raises(FaultError, match=message):
        check("litellm", rule)


def test_the_journal_reads_from_its_mark_and_finds(client: HttpFaultsClient, route: Route) -> None:
    httpx.get(f"{route.url}/echo")
    journal = Journal(client, route.name, client.last(route.name))
    assert len(journal) == 0
    route.fault(status=429, method="POST", times=1)
    httpx.post(f"{route.url}/v1/chat/completions", json={"model": "m"})
    httpx.post(f"{route.url}/v1/chat/completions", json={"model": "m"})
    httpx.get(f"{route.url}/echo?x=1")
    posts = journal.find(method="post", path="/v1/*")
    assert [(p.status, p.fault is not None) for p in posts] == [(429, True), (200, False)]
    assert journal.count(faulted=False) == 2 and journal.count(status=200, path="/echo") == 1
    assert [e.target for e in journal][-1] == "/echo?x=1"
    assert posts[0].line().startswith("POST /v1/chat/completions 429 answered (fault r1 status)")


def test_the_containers_healthcheck_says_whether_the_api_answers(layer: str) -> None:
    port = layer.rsplit(":", 1)[1]
    command = [sys.executable, "-m", "harness.mocks.httpfaults", "--check", "--port"]
    assert subprocess.run([*command, port], timeout=30).returncode == 0
    assert subprocess.run([*command, str(free_port())], timeout=30).returncode == 1
