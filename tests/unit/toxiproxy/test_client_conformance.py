"""Conformance with the upstream Python client `toxiproxy-python` (0.1.1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from ._helpers import EchoServer, ToxiproxyProcess, connect, round_trip


@pytest.fixture
def client(toxiproxy: ToxiproxyProcess) -> Iterator[Toxiproxy]:
    """The client pointed at the mock (the library keeps host/port on a class)."""
    server = Toxiproxy()
    server.update_api_consumer("127.0.0.1", toxiproxy.port)
    yield server


def test_running_and_version(client: Toxiproxy) -> None:
    assert client.running() is True
    assert client.version() == b'{"version": "2.12.0-compatible"}\n'


def test_create_get_list_destroy(client: Toxiproxy, echo: EchoServer) -> None:
    proxy = client.create(upstream=echo.address, name="pg")
    assert proxy.name == "pg"
    assert proxy.upstream == echo.address
    assert proxy.enabled is True
    assert proxy.listen.startswith("127.0.0.1:")
    assert not proxy.listen.endswith(":0")
    assert set(client.proxies()) == {"pg"}
    fetched = client.get_proxy("pg")
    assert fetched is not None
    assert fetched.listen == proxy.listen
    with connect(proxy.listen) as sock:
        round_trip(sock)
    assert client.destroy(proxy) is True
    assert client.get_proxy("pg") is None
    with pytest.raises(NotFound):
        proxy.destroy()


def test_create_duplicate_raises(client: Toxiproxy, echo: EchoServer) -> None:
    client.create(upstream=echo.address, name="twice")
    with pytest.raises(ProxyExists):
        client.create(upstream=echo.address, name="twice")
    # The client checks first; the server also answers 409 to a direct post.
    with pytest.raises(ProxyExists):
        APIConsumer.post("/proxies", json={"name": "twice", "upstream": echo.address})


def test_add_and_remove_toxics(client: Toxiproxy, echo: EchoServer) -> None:
    proxy = client.create(upstream=echo.address, name="tox")
    proxy.add_toxic(type="latency", attributes={"latency": 120})
    proxy.add_toxic(type="limit_data", stream="upstream", name="cap", toxicity=0.5,
                    attributes={"bytes": 1000})  # fmt: skip
    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream", "cap"}
    latency = proxy.get_toxic("latency_downstream")
    assert latency is not None
    assert latency.attributes == {"latency": 120, "jitter": 0}
    assert latency.toxicity == 1
    cap = toxics["cap"]
    assert (cap.type, cap.stream, cap.toxicity) == ("limit_data", "upstream", 0.5)
    with connect(proxy.listen) as sock:
        assert round_trip(sock) >= 0.118
    assert proxy.destroy_toxic("latency_downstream") is True
    assert proxy.get_toxic("latency_downstream") is None
    with connect(proxy.listen) as sock:
        assert round_trip(sock) < 0.1
    with pytest.raises(NotFound):
        proxy.destroy_toxic("latency_downstream")


def test_invalid_toxic_raises(client: Toxiproxy, echo: EchoServer) -> None:
    proxy = client.create(upstream=echo.address, name="inv")
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="no_such_toxic")
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="latency", stream="sideways")
    proxy.add_toxic(type="latency")
    with pytest.raises(ProxyExists):  # 409 maps to ProxyExists in this client
        proxy.add_toxic(type="latency")


def test_enable_disable_and_down(client: Toxiproxy, echo: EchoServer) -> None:
    proxy = client.create(upstream=echo.address, name="flaky")
    proxy.disable()
    assert client.get_proxy("flaky").enabled is False
    with pytest.raises(ConnectionRefusedError):
        connect(proxy.listen, timeout=1)
    proxy.enable()
    assert client.get_proxy("flaky").enabled is True
    with proxy.down():
        assert client.get_proxy("flaky").enabled is False
    with connect(proxy.listen) as sock:
        round_trip(sock)


def test_reset(client: Toxiproxy, echo: EchoServer) -> None:
    proxy = client.create(upstream=echo.address, name="rst")
    proxy.add_toxic(type="timeout", attributes={"timeout": 0})
    proxy.disable()
    assert client.reset() is True
    again = client.get_proxy("rst")
    assert again.enabled is True
    assert again.toxics() == {}


def test_populate_and_destroy_all(client: Toxiproxy, echo: EchoServer) -> None:
    created = client.populate(
        [
            {"name": "one", "upstream": echo.address, "listen": "127.0.0.1:0"},
            {"name": "two", "upstream": echo.address, "listen": "127.0.0.1:0"},
        ]
    )
    assert [p.name for p in created] == ["one", "two"]
    one = client.get_proxy("one")
    # Same definition with the real listen address: the client keeps the proxy.
    kept = client.populate([{"name": "one", "upstream": echo.address, "listen": one.listen}])
    assert kept == []
    assert client.get_proxy("one").listen == one.listen
    client.destroy_all()
    assert client.proxies() == {}
