"""A worker's proxies asked for from several threads at once (issue 14's refused connection).

`test_comfyui_litellm_and_wan2gp_serve_in_parallel` asks for its Wan2GP proxy inside two
threads. When it was the worker's first use of Wan2GP, both threads found no proxy and both
created one with `/populate`; the second call replaced the first proxy, because Toxiproxy's
`Differs` compares the resolved `127.0.0.1:0` with the bound port (Shopify/toxiproxy v2.12.0,
proxy_collection.go `AddOrReplace`, proxy.go `Differs`), and stopped its listener: the thread
that got the first address had every connection refused inside `gradio_client.Client()`.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from harness._stack import Address, Stack, proxies
from harness._stack.proxies import PoolExhausted
from harness._toxiproxy import ToxiproxyClient
from harness.plugin import WorkerBackends

from ._helpers import EchoServer, ToxiproxyProcess


@pytest.fixture
def stack(toxiproxy: ToxiproxyProcess, echo: EchoServer) -> Iterator[Stack]:
    """A Stack on the stand-in whose backends all live at the echo server (no Docker)."""
    stack = Stack("hx-unit")
    stack._toxiproxy = ToxiproxyClient(toxiproxy.url)
    backend = Address("127.0.0.1", echo.server_address[1])
    stack.upstream = lambda service: str(backend)  # type: ignore[method-assign]
    # the stand-in runs on this machine: its pool ports are reached as they are
    stack._proxies.layer = None  # no HTTP fault layer here: proxies dial the echo server
    stack._proxies.pool = {port: Address("127.0.0.1", port) for port in _free_ports(4)}
    yield stack
    stack.toxiproxy.close()


def _free_ports(count: int) -> list[int]:
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def _accepts(address: Address) -> bool:
    try:
        socket.create_connection((address.host, address.port), timeout=2).close()
    except ConnectionRefusedError:
        return False
    return True


def test_threads_asking_at_once_all_get_the_one_live_proxy(stack: Stack) -> None:
    # The worst interleaving, made certain: both threads list the proxies before either creates.
    listed = threading.Barrier(2, timeout=10)
    list_proxies = stack.toxiproxy.proxies

    def proxies_then_wait() -> dict:
        found = list_proxies()
        listed.wait()
        return found

    stack.toxiproxy.proxies = proxies_then_wait  # type: ignore[method-assign]
    backends = WorkerBackends(stack, "gw0")
    got: list[Address] = []
    threads = [
        threading.Thread(target=lambda: got.append(backends.address("wan2gp"))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(got) == 2 and got[0] == got[1], got
    assert all(_accepts(address) for address in got), got
    stack.toxiproxy.proxies = list_proxies  # type: ignore[method-assign]
    assert list(stack.toxiproxy.proxies()) == ["wan2gp--gw0"]


def test_ensure_proxies_keeps_an_existing_proxy_and_its_connections(
    stack: Stack, echo: EchoServer
) -> None:
    (first,) = stack.ensure_proxies(["redis"], "gw1").values()
    with socket.create_connection((first.host, first.port), timeout=5) as open_connection:
        open_connection.sendall(b"ping")
        assert open_connection.recv(16) == b"ping"
        assert stack.ensure_proxies(["redis", "chromadb"], "gw1")["redis"] == first
        open_connection.sendall(b"again")
        assert open_connection.recv(16) == b"again"


def test_a_pool_port_another_process_took_first_is_skipped(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = sorted(stack._proxies.published())
    for index, port in enumerate(pool[:3]):  # other processes' proxies, made after this one listed
        stack.toxiproxy.create(f"other{index}", f"127.0.0.1:{port}", "127.0.0.1:9")
    monkeypatch.setattr(stack.toxiproxy, "proxies", lambda: {})
    monkeypatch.setattr(proxies.zlib, "crc32", lambda data: 0)  # it tries the first port first
    got = stack.ensure_proxies(["redis"], "gw0")["redis"]
    assert got == Address("127.0.0.1", pool[3])
    assert _accepts(got)


def test_an_exhausted_pool_is_one_line_naming_the_fix(stack: Stack) -> None:
    stack.ensure_proxies(["redis", "chromadb", "litellm", "comfyui"], "gw0")
    with pytest.raises(PoolExhausted) as refused:
        stack.ensure_proxies(["wan2gp"], "gw0")
    assert str(refused.value) == (
        "all 4 published proxy ports of stack hx-unit are taken (proxy wan2gp--gw0 found none): "
        "`harness down`, then start it with a larger pool, HARNESS_PROXY_PORTS=8"
    )
    assert "wan2gp--gw0" not in stack.toxiproxy.proxies()
