"""TCP faults through this worker's Toxiproxy proxies, measured with real clients."""

from __future__ import annotations

import statistics
import threading
import time

import httpx
import pytest
import redis

from harness.faults import FaultError, Faults
from harness.plugin import WorkerBackends

pytestmark = pytest.mark.faults


def _round_trips(client: redis.Redis, count: int = 15) -> list[float]:
    client.ping()  # connect outside the measurement
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        client.ping()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def test_latency_adds_the_configured_delay_to_each_round_trip(redis_client, faults: Faults) -> None:
    baseline = statistics.median(_round_trips(redis_client))
    with faults.latency("redis", ms=100):
        slowed = statistics.median(_round_trips(redis_client))
    after = statistics.median(_round_trips(redis_client))
    assert 90 <= slowed - baseline <= 130, (baseline, slowed)
    assert after < baseline + 20


def test_latency_in_both_directions_doubles(redis_client, faults: Faults) -> None:
    baseline = statistics.median(_round_trips(redis_client, 8))
    with faults.latency("redis", ms=50, direction="both"):
        slowed = statistics.median(_round_trips(redis_client, 8))
    assert 90 <= slowed - baseline <= 130, (baseline, slowed)


def test_reset_peer_raises_a_connection_reset(backends: WorkerBackends, faults: Faults) -> None:
    address = backends.address("redis")
    client = redis.Redis(host=address.host, port=address.port, retry_on_error=[])
    client.ping()
    faults.reset_peer("redis")
    with pytest.raises(redis.ConnectionError, match=r"(?i)reset|closed"):
        client.ping()


def test_timeout_holds_until_removed(comfyui_url: str, faults: Faults) -> None:
    """As upstream: data is dropped while the toxic is on; removing it closes the connection."""
    outcome: list[object] = []

    def hanging_request() -> None:
        try:
            outcome.append(httpx.get(f"{comfyui_url}/system_stats", timeout=30).status_code)
        except httpx.TransportError as error:
            outcome.append(error)

    fault = faults.timeout("comfyui", ms=0)
    request = threading.Thread(target=hanging_request)
    request.start()
    request.join(timeout=1.5)
    assert request.is_alive() and outcome == [], "the request should hang while the toxic is on"
    fault.clear()
    request.join(timeout=15)
    assert not request.is_alive() and isinstance(outcome[0], httpx.TransportError)
    assert httpx.get(f"{comfyui_url}/system_stats", timeout=10).status_code == 200


def test_timeout_with_a_deadline_closes_the_connection(comfyui_url: str, faults: Faults) -> None:
    with faults.timeout("comfyui", ms=300), pytest.raises(httpx.TransportError):
        httpx.get(f"{comfyui_url}/system_stats", timeout=10)


def test_down_refuses_and_recovers(backends: WorkerBackends, faults: Faults) -> None:
    address = backends.address("redis")
    with faults.down("redis"), pytest.raises(redis.ConnectionError):
        redis.Redis(host=address.host, port=address.port, socket_connect_timeout=2).ping()
    assert redis.Redis(host=address.host, port=address.port).ping()


def test_bandwidth_limits_throughput(redis_client, faults: Faults) -> None:
    redis_client.set("blob", b"x" * 200_000)
    with faults.bandwidth("redis", kb_per_s=400):
        start = time.perf_counter()
        assert len(redis_client.get("blob")) == 200_000
        elapsed = time.perf_counter() - start
    assert 0.3 <= elapsed <= 1.5, elapsed  # 200 KB at 400 KB/s ≈ 0.5 s


def test_limit_data_closes_after_the_budget(comfyui_url: str, faults: Faults) -> None:
    with faults.limit_data("comfyui", bytes=100), pytest.raises(httpx.TransportError):
        httpx.get(f"{comfyui_url}/object_info", timeout=10)


def test_slicer_still_delivers_the_whole_body(mock_http, faults: Faults) -> None:
    expected = mock_http("comfyui").get("/object_info").json()
    with faults.slicer("comfyui", average_size=64, size_variation=16, delay_us=10):
        assert mock_http("comfyui").get("/object_info").json() == expected


def test_slow_close_delays_the_close(backends: WorkerBackends, faults: Faults) -> None:
    import socket

    address = backends.address("redis")
    with (
        faults.slow_close("redis", delay_ms=400),
        socket.create_connection((address.host, address.port), timeout=5) as sock,
    ):
        sock.sendall(b"PING\r\nQUIT\r\n")
        start = time.perf_counter()
        while sock.recv(1024):
            pass
        elapsed = time.perf_counter() - start
    assert elapsed >= 0.35, elapsed


def test_toxicity_zero_never_applies(redis_client, faults: Faults) -> None:
    with faults.latency("redis", ms=200, toxicity=0.0):
        assert statistics.median(_round_trips(redis_client, 5)) < 100


def test_another_namespace_is_not_touched(stack, redis_client, faults: Faults) -> None:
    other = stack.ensure_proxies(["redis"], "isolation-probe")["redis"]
    neighbour = redis.Redis(host=other.host, port=other.port)
    with faults.latency("redis", ms=150):
        assert statistics.median(_round_trips(redis_client, 5)) > 140
        assert statistics.median(_round_trips(neighbour, 5)) < 50
    stack.toxiproxy.delete(stack.proxy_name("redis", "isolation-probe"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.latency("redis", ms=-5), "latency must be >= 0"),
        (lambda f: f.toxic("redis", "earthquake", {}), "unknown toxic type 'earthquake'"),
        (lambda f: f.latency("kafka", ms=5), "unknown service 'kafka'"),
        (lambda f: f.latency("redis", ms=5, toxicity=1.5), "toxicity must be within 0..1"),
        (lambda f: f.latency("redis", ms=5, direction="sideways"), "unknown direction"),
        (
            lambda f: f.down("redis", via="prometheus"),
            r"^no Prometheus in stack hx-\w+ to scrape redis: list \"prometheus\" in `backends`",
        ),
        (lambda f: f.down("redis", via="api"), "unknown service under test 'api'; declared: none"),
    ],
    ids=[
        "negative-latency",
        "unknown-type",
        "unknown-service",
        "toxicity",
        "direction",
        "via-no-prometheus",
        "via-unknown",
    ],
)
def test_bad_tcp_faults_are_refused_and_nothing_is_applied(
    faults: Faults, call, message: str
) -> None:
    with pytest.raises(Exception, match=message):
        call(faults)
    assert faults.active() == [] and faults.leftovers() == []


def test_tcp_fault_on_an_isolated_service_says_it_has_no_proxy(
    faults: Faults, isolated_service
) -> None:
    with pytest.raises(FaultError, match="has no proxy"):
        faults.latency(isolated_service("redis"), ms=10)
