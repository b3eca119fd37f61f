"""An adopting project's suite: its process and container services and its own Postgres."""

import time

import httpx
import pg8000.native
import pytest

from harness.waiting import wait_for


def elapsed(call) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def test_the_process_service_counts_in_redis(under_test, redis_client) -> None:
    counter = under_test("counter")
    first = int(httpx.get(f"{counter.url}/visit", timeout=30).text)
    assert int(httpx.get(f"{counter.url}/visit", timeout=30).text) == first + 1


@pytest.mark.exclusive_stack
def test_a_tcp_fault_on_its_backend_slows_the_service(under_test, faults) -> None:
    counter = under_test("counter")
    visit = lambda: httpx.get(f"{counter.url}/visit", timeout=30).raise_for_status()  # noqa: E731
    visit()
    with faults.latency("redis", 400, via="counter"):
        slowed = elapsed(visit)
    assert slowed >= 0.4, slowed
    assert elapsed(visit) < slowed


@pytest.mark.exclusive_stack
def test_its_client_survives_a_container_kill_of_the_service(under_test, faults) -> None:
    web = under_test("web")
    assert httpx.get(web.url, timeout=30).status_code == 200
    faults.kill("web")
    with pytest.raises(httpx.TransportError):
        httpx.get(web.url, timeout=5)
    faults.clear()  # started again and healthy

    def answered() -> httpx.Response | None:
        try:
            return httpx.get(web.url, timeout=5)
        except httpx.TransportError:
            return None

    answer = wait_for(answered, 30, "the web service to answer again", interval=0.2)
    assert answer.status_code == 200


@pytest.mark.exclusive_stack
def test_a_killed_process_comes_back(under_test, faults) -> None:
    counter = under_test("counter")
    faults.kill("counter")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{counter.url}/visit", timeout=5)
    faults.clear()
    assert httpx.get(f"{counter.url}/visit", timeout=30).status_code == 200


def test_the_postgres_proxy_carries_a_fault(backends, faults) -> None:
    address = backends.address("postgres")
    database = backends.isolation["postgres"]
    connect = lambda: pg8000.native.Connection(  # noqa: E731
        "postgres", host=address.host, port=address.port, database=database
    ).close()
    connect()
    with faults.latency("postgres", 300):
        assert elapsed(connect) >= 0.3
    with faults.down("postgres"), pytest.raises(pg8000.exceptions.InterfaceError):
        connect()
    connect()
