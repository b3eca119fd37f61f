"""A failing test gets the logs of every service it reached (issue 14): through `backends`,
`mock_http`, an app fixture built on `backends` (the studio), `faults`, plus the proxy's log."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from harness import _reached
from harness import _topology as topology
from harness._stack import Address
from harness.plugin import FIXTURE_SERVICES, WorkerBackends


class FakeStack:
    topology = topology.load()  # the packaged backends: what the names are checked against

    def ensure_proxies(self, services: list[str], namespace: str) -> dict[str, Address]:
        return {service: Address("127.0.0.1", 1) for service in services}


def _item(nodeid: str, fixtures: dict[str, list[str]], funcargs: Any = None) -> Any:
    """A pytest item as the hook sees it: fixture names, each fixture's own arguments."""
    defs = {name: [SimpleNamespace(argnames=tuple(args))] for name, args in fixtures.items()}
    return SimpleNamespace(
        nodeid=nodeid,
        fixturenames=list(fixtures),
        _fixtureinfo=SimpleNamespace(name2fixturedefs=defs),
        funcargs=funcargs or {},
    )


def _ask(backends: WorkerBackends, nodeid: str, *services: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("PYTEST_CURRENT_TEST", f"{nodeid} (call)")
    for service in services:
        backends.address(service)


def test_backends_and_mock_http_count_what_this_test_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backends = WorkerBackends(FakeStack(), "gw0")  # type: ignore[arg-type]
    _ask(backends, "t.py::earlier", "redis", monkeypatch=monkeypatch)
    _ask(backends, "t.py::parallel", "wan2gp", "comfyui", monkeypatch=monkeypatch)
    item = _item("t.py::parallel", {"backends": ["stack"], "openai_client": ["backends"]})
    found = _reached.services(item, FIXTURE_SERVICES, backends)
    assert found == ["comfyui", "litellm", "toxiproxy", "wan2gp"]  # not the earlier test's redis


def test_an_app_on_the_workers_proxies_reached_every_backend_handed_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backends = WorkerBackends(FakeStack(), "gw0")  # type: ignore[arg-type]
    _ask(backends, "t.py::first", "redis", "chromadb", "cablecast", monkeypatch=monkeypatch)
    item = _item("t.py::later", {"studio": ["start_studio"], "start_studio": ["backends"]})
    assert _reached.services(item, FIXTURE_SERVICES, backends) == [
        "cablecast",
        "chromadb",
        "redis",
        "toxiproxy",
    ]


def test_faults_add_their_services_and_the_proxy() -> None:
    history = [
        {"layer": "tcp", "fault": "latency", "proxy": "comfyui--gw1"},
        {"layer": "container", "fault": "kill", "service": "redis"},
    ]
    item = _item("t.py::f", {"faults": ["stack"]}, {"faults": SimpleNamespace(history=history)})
    assert _reached.services(item, FIXTURE_SERVICES, None) == ["comfyui", "redis", "toxiproxy"]
