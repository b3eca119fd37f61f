"""Kernel faults on real packets and container faults, with recovery to healthy."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import docker.errors
import pytest
import redis

from harness._stack import Stack
from harness.faults import Faults, UnsupportedByKernel
from harness.faults.kernel import netem_available

pytestmark = pytest.mark.faults


def _timed_pings(client: redis.Redis, count: int) -> list[float]:
    client.ping()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        client.ping()
        samples.append(time.perf_counter() - start)
    return samples


def test_packet_loss_shows_as_retransmission_delay(faults: Faults, isolated_service) -> None:
    target = isolated_service("redis")
    client = redis.Redis(host=target.address.host, port=target.address.port, socket_timeout=10)
    assert max(_timed_pings(client, 20)) < 0.15
    with faults.loss(target, percent=30):
        lossy = _timed_pings(client, 40)
    retransmitted = [s for s in lossy if s >= 0.15]  # the kernel's minimum RTO is 200 ms
    assert len(retransmitted) >= 3, sorted(lossy)[-5:]
    assert client.ping()  # nothing lost for good: TCP recovered every round trip


def test_rate_limit_slows_a_bulk_read(faults: Faults, isolated_service) -> None:
    target = isolated_service("redis")
    client = redis.Redis(host=target.address.host, port=target.address.port, socket_timeout=30)
    client.set("blob", b"x" * 256_000)
    start = time.perf_counter()
    client.get("blob")
    fast = time.perf_counter() - start
    with faults.rate_limit(target, kbit=1024):
        start = time.perf_counter()
        assert len(client.get("blob")) == 256_000
        slow = time.perf_counter() - start
    assert slow >= 1.0 and slow > 10 * fast, (fast, slow)  # 2 Mbit at 1 Mbit/s ≈ 2 s


def _can_connect(stack: Stack, source: str, host: str, port: int) -> bool:
    container = stack.containers()[source]
    probe = f"timeout 2 bash -c ':> /dev/tcp/{host}/{port}'"
    return container.exec_run(["bash", "-c", probe]).exit_code == 0


@pytest.mark.exclusive_stack
def test_partition_isolates_two_services_both_ways(stack: Stack, faults: Faults) -> None:
    assert _can_connect(stack, "litellm", "redis", 6379)
    assert _can_connect(stack, "redis", "litellm", 4000)
    with faults.partition("litellm", "redis"):
        assert not _can_connect(stack, "litellm", "redis", 6379)
        assert not _can_connect(stack, "redis", "litellm", 4000)
        assert _can_connect(stack, "chromadb", "redis", 6379)  # a third service is untouched
    assert _can_connect(stack, "litellm", "redis", 6379)
    assert _can_connect(stack, "redis", "litellm", 4000)


def test_delay_needs_netem_or_says_so(faults: Faults, isolated_service) -> None:
    target = isolated_service("redis")
    if netem_available():
        client = redis.Redis(host=target.address.host, port=target.address.port)
        with faults.delay(target, ms=100):
            assert min(_timed_pings(client, 5)) >= 0.09
    else:
        with pytest.raises(UnsupportedByKernel, match="not supported by this kernel"):
            faults.delay(target, ms=100)
    assert faults.leftovers() == []


def test_loss_over_100_percent_is_refused(faults: Faults, isolated_service) -> None:
    with pytest.raises(Exception, match="loss must be within"):
        faults.loss(isolated_service("redis"), percent=150)


@pytest.mark.xdist_group("inner-runs")
def test_kernel_fault_on_the_shared_stack_needs_exclusivity_under_xdist(inner_pytest) -> None:
    source = (
        "import pytest\n"
        "from harness.faults import FaultError\n"
        "def test_a(faults):\n"
        "    with pytest.raises(FaultError, match='exclusive_stack'):\n"
        "        faults.loss('redis', 10)\n"
        "def test_b(faults):\n"
        "    with pytest.raises(FaultError, match='isolated_service'):\n"
        "        faults.pause('redis')\n"
    )
    code, output = inner_pytest(source, "-n", "2", "--stack-services", "redis").finish()
    assert code == 0, output


@pytest.mark.parametrize("action", ["stop", "kill", "pause"])
def test_container_fault_breaks_then_recovers(
    faults: Faults, isolated_service, action: str
) -> None:
    target = isolated_service("redis")
    fault = getattr(faults, action)(target)
    client = redis.Redis(
        host=target.address.host,
        port=target.address.port,
        socket_timeout=1,
        socket_connect_timeout=1,
    )
    with pytest.raises(redis.RedisError):
        client.ping()
    fault.clear()  # started / unpaused and healthy again
    client = redis.Redis(host=target.address.host, port=target.address.port)
    assert client.ping()


@contextmanager
def _held_ports(host: str, first: int, count: int) -> Iterator[None]:
    """Listen on `count` ports from `first` on, as another program would (one already taken is
    held by someone else: just as good)."""
    with ExitStack() as sockets:
        for port in range(first, first + count):
            listener = sockets.enter_context(socket.socket())
            try:
                listener.bind((host, port))
                listener.listen()
            except OSError:
                continue
        yield


@pytest.mark.exclusive_stack  # no other test's container takes a port from the engine meanwhile
def test_a_killed_container_comes_back_past_host_ports_other_programs_hold(
    faults: Faults, isolated_service
) -> None:
    target = isolated_service("redis")
    last = target.address.port  # the engine's allocator hands out the ports after it next
    fault = faults.kill(target)
    with _held_ports(target.address.host, last + 1, 25):
        # the engine alone tries 10 ports per start, then gives up (moby's maxAllocatePortAttempts)
        with pytest.raises(docker.errors.APIError, match="address already in use"):
            target.docker.start()
        fault.clear()
    assert target.address.port > last + 25
    assert redis.Redis(host=target.address.host, port=target.address.port).ping()


def test_restart_waits_until_healthy_again(faults: Faults, isolated_service) -> None:
    target = isolated_service("redis")
    before = target.docker.attrs["State"]["StartedAt"]
    faults.restart(target)
    target.docker.reload()
    assert target.docker.attrs["State"]["StartedAt"] != before
    # healthy: Docker says so, or the container's own healthcheck, run by the harness, passed
    # before Docker's next interval did
    assert target.docker.attrs["State"]["Health"]["Status"] in ("healthy", "starting")
    assert target.docker.exec_run(["redis-cli", "ping"]).exit_code == 0
    assert redis.Redis(host=target.address.host, port=target.address.port).ping()


@pytest.mark.exclusive_stack
def test_restart_of_a_shared_backend_keeps_its_proxy_working(chroma_client, faults: Faults) -> None:
    assert chroma_client.heartbeat() > 0
    faults.restart("chromadb")
    assert chroma_client.heartbeat() > 0


@pytest.mark.exclusive_stack
def test_everything_is_reverted_after_clear(stack: Stack, faults: Faults, redis_client) -> None:
    faults.latency("redis", ms=50)
    faults.down("comfyui")
    faults.loss("redis", 5)
    faults.http("cablecast", status=503)
    assert len(faults.active()) == 4
    faults.clear()
    assert faults.active() == [] and faults.leftovers() == []
    assert redis_client.ping()
