"""Fixtures: the toxiproxy mock (one per module and worker), echo backends, an API client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import quote

import httpx
import pytest

from ._helpers import EchoServer, ToxiproxyProcess


@pytest.fixture(scope="module")
def toxiproxy_process() -> Iterator[ToxiproxyProcess]:
    """One server per test module (per xdist worker)."""
    server = ToxiproxyProcess("--seed", "1234")
    yield server
    server.stop()


@pytest.fixture
def toxiproxy(toxiproxy_process: ToxiproxyProcess) -> Iterator[ToxiproxyProcess]:
    """The module's server, emptied of proxies after each test."""
    yield toxiproxy_process
    with httpx.Client(base_url=toxiproxy_process.url) as client:
        for name in client.get("/proxies").json():
            client.delete("/proxies/" + quote(name, safe=""))


@pytest.fixture
def api(toxiproxy: ToxiproxyProcess) -> Iterator[httpx.Client]:
    """An httpx client on the API."""
    with httpx.Client(base_url=toxiproxy.url, timeout=10.0) as client:
        yield client


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    """An echo backend."""
    server = EchoServer()
    yield server
    server.stop()


@pytest.fixture
def echo_factory() -> Iterator[Callable[[bytes], EchoServer]]:
    """Make extra (prefixed) echo backends."""
    servers: list[EchoServer] = []

    def make(prefix: bytes = b"") -> EchoServer:
        servers.append(EchoServer(prefix))
        return servers[-1]

    yield make
    for server in servers:
        server.stop()
