"""Proxy lifecycle through real sockets: enable/disable, moves, deletes, populate, CLI."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from ._helpers import (
    ROOT,
    EchoServer,
    ToxiproxyProcess,
    add_toxic,
    connect,
    create_proxy,
    recv_exactly,
    round_trip,
)


def refused(listen: str) -> bool:
    """True when nothing listens on `listen` any more."""
    try:
        connect(listen, timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def closed_by_peer(sock: socket.socket) -> bool:
    """True when the peer closed (EOF or RST) within 5 s."""
    sock.settimeout(5)
    try:
        return sock.recv(10) == b""
    except ConnectionResetError:
        return True


def test_listen_port_zero_shows_the_real_port(api: httpx.Client, echo: EchoServer) -> None:
    proxy = create_proxy(api, "zero", echo.address)
    port = int(proxy["listen"].rsplit(":", 1)[1])
    assert port != 0
    with connect(proxy["listen"]) as sock:
        round_trip(sock)
    assert echo.connections == 1


def test_disable_refuses_new_and_drops_open_connections(
    api: httpx.Client, echo: EchoServer
) -> None:
    proxy = create_proxy(api, "down", echo.address)
    with connect(proxy["listen"]) as sock:
        round_trip(sock)
        assert api.patch("/proxies/down", json={"enabled": False}).json()["enabled"] is False
        assert closed_by_peer(sock)
    assert refused(proxy["listen"])
    api.patch("/proxies/down", json={"enabled": True})
    with connect(proxy["listen"]) as sock:  # same port again
        round_trip(sock)


def test_changing_upstream_drops_open_connections(
    api: httpx.Client, echo_factory: Callable[[bytes], EchoServer]
) -> None:
    first, second = echo_factory(b"1:"), echo_factory(b"2:")
    proxy = create_proxy(api, "move", first.address)
    with connect(proxy["listen"]) as sock:
        sock.sendall(b"a")
        assert recv_exactly(sock, 3) == b"1:a"
        moved = api.patch("/proxies/move", json={"upstream": second.address}).json()
        assert moved["listen"] == proxy["listen"]  # same resolved listen: kept
        assert closed_by_peer(sock)
    with connect(proxy["listen"]) as sock:
        sock.sendall(b"b")
        assert recv_exactly(sock, 3) == b"2:b"


def test_changing_listen_moves_the_listener(api: httpx.Client, echo: EchoServer) -> None:
    proxy = create_proxy(api, "relisten", echo.address)
    with connect(proxy["listen"]) as sock:
        round_trip(sock)
        moved = api.patch("/proxies/relisten", json={"listen": "127.0.0.1:0"}).json()
        assert moved["listen"] != proxy["listen"]
        assert closed_by_peer(sock)
    assert refused(proxy["listen"])
    with connect(moved["listen"]) as sock:
        round_trip(sock)


def test_delete_drops_connections_and_frees_the_port(api: httpx.Client, echo: EchoServer) -> None:
    proxy = create_proxy(api, "gone", echo.address)
    with connect(proxy["listen"]) as sock:
        round_trip(sock)
        assert api.delete("/proxies/gone").status_code == 204
        assert closed_by_peer(sock)
    assert refused(proxy["listen"])


def test_populate_keeps_unchanged_proxies_and_their_connections(
    api: httpx.Client, echo: EchoServer
) -> None:
    proxy = create_proxy(api, "keep", echo.address)
    with connect(proxy["listen"]) as sock:
        round_trip(sock)
        same = [{"name": "keep", "listen": proxy["listen"], "upstream": echo.address}]
        assert api.post("/populate", json=same).status_code == 201
        round_trip(sock)  # still open
        changed = [{"name": "keep", "listen": "127.0.0.1:0", "upstream": echo.address}]
        assert api.post("/populate", json=changed).status_code == 201
        assert closed_by_peer(sock)


def test_reset_reenables_disabled_proxies(api: httpx.Client, echo: EchoServer) -> None:
    proxy = create_proxy(api, "again", echo.address)
    add_toxic(api, "again", type="timeout", attributes={"timeout": 0})
    api.patch("/proxies/again", json={"enabled": False})
    assert refused(proxy["listen"])
    assert api.post("/reset").status_code == 204
    with connect(proxy["listen"]) as sock:
        assert round_trip(sock) < 0.5  # toxic gone too


def test_unreachable_upstream_closes_the_client(api: httpx.Client) -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{probe.getsockname()[1]}"
    proxy = create_proxy(api, "dead", dead)
    with connect(proxy["listen"]) as sock:
        assert closed_by_peer(sock)


def test_config_file_and_single_dash_flags(tmp_path: Path, echo: EchoServer) -> None:
    config = tmp_path / "toxiproxy.json"
    config.write_text(
        json.dumps([{"name": "from_file", "listen": "127.0.0.1:0", "upstream": echo.address}])
    )
    server = ToxiproxyProcess("-config", str(config), "-seed=5")
    try:
        proxies = httpx.get(server.url + "/proxies").json()
        assert list(proxies) == ["from_file"]
        with connect(proxies["from_file"]["listen"]) as sock:
            round_trip(sock)
    finally:
        server.stop()


def test_version_flag() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harness.mocks.toxiproxy", "-version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == "toxiproxy-server version 2.12.0-compatible\n"


def toxicity_pattern(server: ToxiproxyProcess, echo: EchoServer) -> list[bool]:
    """Which of 12 connections got a toxicity-0.5 latency toxic."""
    with httpx.Client(base_url=server.url) as api:
        proxy = create_proxy(api, "dice", echo.address)
        add_toxic(api, "dice", type="latency", toxicity=0.5, attributes={"latency": 60})
        pattern = []
        for _ in range(12):
            with connect(proxy["listen"]) as sock:
                pattern.append(round_trip(sock) >= 0.058)
    return pattern


def test_seed_makes_toxicity_reproducible(echo: EchoServer) -> None:
    patterns = []
    for _ in range(2):
        server = ToxiproxyProcess("--seed", "7")
        try:
            patterns.append(toxicity_pattern(server, echo))
        finally:
            server.stop()
    assert patterns[0] == patterns[1]
    assert len(set(patterns[0])) == 2
