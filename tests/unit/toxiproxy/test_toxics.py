"""Toxic semantics measured through real sockets (client -> proxy -> echo backend)."""

from __future__ import annotations

import socket
import statistics
import time

import httpx
import pytest

from ._helpers import (
    EchoServer,
    add_toxic,
    connect,
    create_proxy,
    read_until_eof,
    recv_exactly,
    round_trip,
)

# Generous bounds: the timing is real, the machine may be busy (xdist, CI).
SLACK = 0.06


@pytest.fixture
def proxy(api: httpx.Client, echo: EchoServer) -> dict[str, str]:
    """A proxy in front of the echo backend."""
    return {k: v for k, v in create_proxy(api, "echo", echo.address).items() if k != "toxics"}


def baseline(listen: str, rounds: int = 5) -> float:
    """Median round trip with no toxics."""
    with connect(listen) as sock:
        return statistics.median(round_trip(sock) for _ in range(rounds))


def test_proxy_passes_data_both_ways(proxy: dict[str, str]) -> None:
    with connect(proxy["listen"]) as sock:
        payload = bytes(range(256)) * 1024
        sock.sendall(payload)
        assert recv_exactly(sock, len(payload)) == payload


def test_server_speaks_first(api: httpx.Client) -> None:
    greeter = EchoServer(greeting=b"220 ready\r\n")
    try:
        proxy = create_proxy(api, "greeter", greeter.address)
        for _ in range(3):
            with connect(proxy["listen"]) as sock:
                assert recv_exactly(sock, 11) == b"220 ready\r\n"
                assert round_trip(sock) < 0.5
    finally:
        greeter.stop()


def test_latency_adds_the_configured_delay_per_chunk(
    api: httpx.Client, proxy: dict[str, str]
) -> None:
    base = baseline(proxy["listen"])
    add_toxic(api, "echo", type="latency", attributes={"latency": 100})
    with connect(proxy["listen"]) as sock:
        samples = [round_trip(sock) - base for _ in range(3)]
    for added in samples:
        assert 0.095 <= added <= 0.1 + SLACK, samples


def test_latency_upstream_and_downstream_add_up(api: httpx.Client, proxy: dict[str, str]) -> None:
    add_toxic(api, "echo", type="latency", stream="upstream", attributes={"latency": 60})
    add_toxic(api, "echo", type="latency", stream="downstream", attributes={"latency": 60})
    with connect(proxy["listen"]) as sock:
        elapsed = round_trip(sock)
    assert 0.115 <= elapsed <= 0.12 + SLACK


def test_latency_jitter_stays_within_bounds(api: httpx.Client, proxy: dict[str, str]) -> None:
    add_toxic(api, "echo", type="latency", attributes={"latency": 60, "jitter": 40})
    with connect(proxy["listen"]) as sock:
        samples = [round_trip(sock) for _ in range(12)]
    assert all(0.019 <= s <= 0.1 + SLACK for s in samples), samples
    assert max(samples) - min(samples) > 0.01, samples  # it does vary


def test_latency_is_pipelined_not_cumulative(api: httpx.Client, proxy: dict[str, str]) -> None:
    add_toxic(api, "echo", type="latency", attributes={"latency": 100})
    with connect(proxy["listen"]) as sock:
        started = time.perf_counter()
        for i in range(5):
            sock.sendall(b"%d" % i)
            time.sleep(0.01)  # five separate chunks, 10 ms apart (pacing, not synchronisation)
        received = recv_exactly(sock, 5)
        elapsed = time.perf_counter() - started
    assert received == b"01234"
    assert elapsed < 0.1 + 0.05 + SLACK  # ~150 ms, not 5 x 100 ms


def test_bandwidth_limits_the_rate(api: httpx.Client, proxy: dict[str, str]) -> None:
    add_toxic(api, "echo", type="bandwidth", attributes={"rate": 400})  # 400 KB/s downstream
    payload = b"x" * 200_000
    with connect(proxy["listen"], timeout=10) as sock:
        started = time.perf_counter()
        sock.sendall(payload)
        recv_exactly(sock, len(payload))
        elapsed = time.perf_counter() - started
    rate = len(payload) / elapsed / 1000
    assert 300 <= rate <= 440, f"{rate:.0f} KB/s"


def test_bandwidth_zero_stalls_until_removed(api: httpx.Client, proxy: dict[str, str]) -> None:
    add_toxic(api, "echo", type="bandwidth", attributes={"rate": 0})
    with connect(proxy["listen"]) as sock:
        sock.sendall(b"stuck")
        sock.settimeout(0.4)
        with pytest.raises(TimeoutError):
            sock.recv(10)
        assert api.delete("/proxies/echo/toxics/bandwidth_downstream").status_code == 204
        sock.settimeout(5)
        assert recv_exactly(sock, 5) == b"stuck"


def test_slow_close_delays_the_close(api: httpx.Client, proxy: dict[str, str]) -> None:
    add_toxic(api, "echo", type="slow_close", attributes={"delay": 300})
    with connect(proxy["listen"]) as sock:
        assert round_trip(sock) < 0.2  # data is not delayed
        started = time.perf_counter()
        sock.shutdown(socket.SHUT_WR)  # backend sees EOF and closes; the proxy holds the close
        assert read_until_eof(sock) == b""
        elapsed = time.perf_counter() - started
    assert 0.29 <= elapsed <= 0.3 + SLACK * 2


def test_timeout_closes_after_the_timeout_and_drops_data(
    api: httpx.Client, proxy: dict[str, str]
) -> None:
    add_toxic(api, "echo", type="timeout", stream="upstream", attributes={"timeout": 250})
    with connect(proxy["listen"]) as sock:
        started = time.perf_counter()
        assert read_until_eof(sock) == b""  # no data while the toxic is there
        elapsed = time.perf_counter() - started
    assert 0.24 <= elapsed <= 0.25 + SLACK * 2


def test_timeout_zero_holds_until_removed_then_closes(
    api: httpx.Client, proxy: dict[str, str]
) -> None:
    add_toxic(api, "echo", type="timeout", stream="upstream", attributes={"timeout": 0})
    with connect(proxy["listen"]) as sock:
        sock.sendall(b"dropped")
        sock.settimeout(0.4)
        with pytest.raises(TimeoutError):
            sock.recv(10)  # held open, nothing comes back
        assert api.delete("/proxies/echo/toxics/timeout_upstream").status_code == 204
        sock.settimeout(5)
        # Upstream's TimeoutToxic.Cleanup closes the connections it held.
        assert read_until_eof(sock) == b""
    with connect(proxy["listen"]) as sock:  # new connections flow again
        assert round_trip(sock, b"flows") < 0.5


def test_reset_peer_sends_rst(api: httpx.Client, proxy: dict[str, str]) -> None:
    add_toxic(api, "echo", type="reset_peer", attributes={"timeout": 100})
    with connect(proxy["listen"]) as sock:
        started = time.perf_counter()
        sock.sendall(b"hello")
        with pytest.raises(ConnectionResetError):
            while sock.recv(100):
                pass
        elapsed = time.perf_counter() - started
    assert 0.095 <= elapsed <= 0.1 + SLACK * 2


def test_reset_peer_added_to_an_open_connection_closes_it(
    api: httpx.Client, proxy: dict[str, str]
) -> None:
    with connect(proxy["listen"]) as sock:
        round_trip(sock)
        add_toxic(api, "echo", type="reset_peer", attributes={"timeout": 0})
        sock.sendall(b"x")
        # As upstream: SO_LINGER 0 is only set on connections opened with the toxic in
        # place, so an already open one is closed with a FIN; its data is swallowed.
        assert read_until_eof(sock) == b""


def test_slicer_splits_writes(api: httpx.Client, proxy: dict[str, str]) -> None:
    add_toxic(
        api, "echo", type="slicer",
        attributes={"average_size": 10, "size_variation": 4, "delay": 20_000},
    )  # fmt: skip
    payload = bytes(range(100))  # >= 8 slices of 6..14 bytes, 20 ms after each
    with connect(proxy["listen"]) as sock:
        started = time.perf_counter()
        sock.sendall(payload)
        pieces: list[bytes] = []
        while sum(map(len, pieces)) < len(payload):
            pieces.append(sock.recv(1000))
        elapsed = time.perf_counter() - started
    assert b"".join(pieces) == payload
    assert elapsed >= 7 * 0.02
    assert len(pieces) >= 3, [len(p) for p in pieces]  # arrived as separate writes


def test_limit_data_closes_after_n_bytes(api: httpx.Client, proxy: dict[str, str]) -> None:
    add_toxic(api, "echo", type="limit_data", attributes={"bytes": 10})
    with connect(proxy["listen"]) as sock:
        sock.sendall(b"0123456789abcdefghij")
        assert read_until_eof(sock) == b"0123456789"


def test_toxicity_zero_never_applies(api: httpx.Client, proxy: dict[str, str]) -> None:
    add_toxic(api, "echo", type="latency", toxicity=0.0, attributes={"latency": 300})
    for _ in range(5):
        with connect(proxy["listen"]) as sock:
            assert round_trip(sock) < 0.2


def test_toxicity_one_always_applies(api: httpx.Client, proxy: dict[str, str]) -> None:
    add_toxic(api, "echo", type="latency", toxicity=1.0, attributes={"latency": 80})
    for _ in range(4):
        with connect(proxy["listen"]) as sock:
            assert round_trip(sock) >= 0.078


def test_toxicity_is_rolled_once_per_connection(api: httpx.Client, proxy: dict[str, str]) -> None:
    add_toxic(api, "echo", type="latency", toxicity=0.5, attributes={"latency": 300})
    outcomes = []
    for _ in range(16):
        with connect(proxy["listen"]) as sock:
            # 300 ms against a 150 ms threshold: a load spike on a fast connection can't pass it
            slow = [round_trip(sock) >= 0.15 for _ in range(3)]
        assert len(set(slow)) == 1, slow  # all or nothing within one connection
        outcomes.append(slow[0])
    assert True in outcomes
    assert False in outcomes


def test_toxic_added_to_an_open_connection_applies(
    api: httpx.Client, proxy: dict[str, str]
) -> None:
    with connect(proxy["listen"]) as sock:
        assert round_trip(sock) < 0.05
        add_toxic(api, "echo", type="latency", attributes={"latency": 150})
        assert round_trip(sock) >= 0.148
        api.patch("/proxies/echo/toxics/latency_downstream", json={"attributes": {"latency": 50}})
        assert 0.048 <= round_trip(sock) < 0.148
        api.delete("/proxies/echo/toxics/latency_downstream")
        assert round_trip(sock) < 0.05


def test_removing_a_toxic_releases_held_data(api: httpx.Client, proxy: dict[str, str]) -> None:
    add_toxic(api, "echo", type="latency", attributes={"latency": 5000})
    with connect(proxy["listen"]) as sock:
        started = time.perf_counter()
        sock.sendall(b"held")
        sock.settimeout(0.2)
        with pytest.raises(TimeoutError):
            sock.recv(10)  # held by the toxic
        sock.settimeout(5)
        api.delete("/proxies/echo/toxics/latency_downstream")
        assert recv_exactly(sock, 4) == b"held"
        assert time.perf_counter() - started < 2.0
