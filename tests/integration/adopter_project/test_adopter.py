"""An adopting project's suite: its process and container services and its own Postgres."""

import time
from contextlib import closing

import httpx
import pg8000.native
import psycopg
import psycopg2
import pytest
import requests

from harness import wait_for
from harness.reports import observe


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


def test_its_own_clients_are_timed_into_the_report(backends, under_test) -> None:
    address = backends.address("postgres")
    dsn = {"host": address.host, "port": address.port, "user": "postgres"}
    dsn["dbname"] = backends.isolation["postgres"]
    with closing(observe(psycopg2.connect(**dsn), "archive-db")) as old, old.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    with observe(psycopg.connect(**dsn), "archive-db") as new:
        assert new.execute("SELECT 2").fetchone() == (2,)
    session = observe(requests.Session(), "counter-client")
    assert session.get(f"{under_test('counter').url}/visit", timeout=30).ok
