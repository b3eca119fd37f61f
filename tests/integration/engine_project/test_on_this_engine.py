"""What a project needs from the engine it runs on, checked through the harness's own fixtures:
copied into a `harness init` project by tests/integration/test_engines.py and run there with
DOCKER_HOST naming the engine under test (ENGINE_KIND, as `harness doctor` names it, and
EXPECTED_HOST: the address clients must be given)."""

from __future__ import annotations

import os
import time

import httpx
import pytest
import redis

from harness import Faults, Stack, UnsupportedByKernel, WorkerBackends, wait_for


def _round_trip_ms(client: redis.Redis) -> float:
    began = time.perf_counter()
    client.ping()
    return (time.perf_counter() - began) * 1000


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def test_clients_get_the_address_the_engine_published(backends: WorkerBackends) -> None:
    assert backends.address("redis").host == os.environ["EXPECTED_HOST"]


def test_a_tcp_fault_slows_this_workers_proxy(redis_client: redis.Redis, faults: Faults) -> None:
    assert _round_trip_ms(redis_client) < 300
    faults.latency("redis", ms=300)
    assert _round_trip_ms(redis_client) >= 300


@pytest.mark.exclusive_stack
def test_a_stopped_container_refuses_then_comes_back(
    redis_client: redis.Redis, faults: Faults
) -> None:
    stopped = faults.stop("redis")
    # refused, or timed out where the engine's DNS takes long to say the name is gone (the
    # proxy dials `redis` afresh for each connection)
    with pytest.raises((redis.ConnectionError, redis.TimeoutError)):
        redis_client.ping()
    stopped.clear()
    wait_for(lambda: _answers(redis_client), 60, "redis to answer after its restart")


@pytest.mark.exclusive_stack
def test_a_kernel_fault_drops_packets_or_says_why_not(
    backends: WorkerBackends, faults: Faults
) -> None:
    address = backends.address("redis")
    client = redis.Redis(address.host, address.port, socket_timeout=2, socket_connect_timeout=2)
    assert _answers(client)
    try:
        faults.loss("redis", 100)
    except UnsupportedByKernel as refused:  # one line naming the engine and what it lacks
        message = str(refused)
        assert "\n" not in message and os.environ["ENGINE_KIND"] in message, message
        assert "NET_ADMIN" in message, message
        return
    assert not _answers(client)  # every packet to Redis is dropped, the proxy's included
    faults.clear()
    wait_for(lambda: _answers(client), 30, "redis to answer once the loss is cleared")


def test_an_http_fault_reaches_a_client_through_the_layer(stack: Stack, worker_id: str) -> None:
    """Client → a published pool port → Toxiproxy → a route of the HTTP fault layer → an HTTP
    server on the stack's network (Toxiproxy's own API stands in for an HTTP backend): the path
    of every HTTP backend's proxies, on this engine."""
    toxiproxy = stack.containers()["toxiproxy"]
    network = toxiproxy.attrs["NetworkSettings"]["Networks"][f"{stack.project}_backend"]
    name = f"probe--{worker_id}"
    route = stack.http_layer.route(name, f"{network['IPAddress']}:8474")
    address = stack._proxies.expose(name, route)
    stack.http_layer.client.add_fault(name, {"status": 503, "times": 1})
    answers = [httpx.get(f"{address.url}/version", timeout=10) for _ in range(2)]
    assert [a.status_code for a in answers] == [503, 200]
    journal = stack.http_layer.client.journal(name)
    assert [(e["path"], e["status"], e["outcome"]) for e in journal] == [
        ("/version", 503, "answered"),
        ("/version", 200, "complete"),
    ]
