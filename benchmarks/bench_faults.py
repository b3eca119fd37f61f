"""Fault accuracy and proxy overhead, measured side by side in one run on a Redis-only stack.

    python benchmarks/bench_faults.py

Prints the figures and writes benchmarks/results/faults.json. Targets: added p50 <= 0.3 ms,
bulk >= 50 % of direct, latency 100 ms -> added p50 within ±3 ms and p99 within +15 ms,
loss 20 % -> measured 17-23 % over >= 1000 packets, apply + clear <= 20 ms.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from pathlib import Path

import redis

from harness import _docker
from harness import _images as images
from harness._stack import Address, Stack, new_project_name
from harness.faults import Faults, Target
from harness.faults.kernel import Loss

RESULTS = Path(__file__).parent / "results"


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _round_trips(address: Address, count: int) -> list[float]:
    client = redis.Redis(host=address.host, port=address.port)
    client.ping()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        client.ping()
        samples.append((time.perf_counter() - start) * 1000)
    client.close()
    return samples


def _bulk_mb_s(address: Address, rounds: int = 8) -> float:
    client = redis.Redis(host=address.host, port=address.port)
    client.get("bulk")
    start = time.perf_counter()
    for _ in range(rounds):
        client.get("bulk")
    elapsed = time.perf_counter() - start
    client.close()
    return rounds * 16 / elapsed


def overhead(stack: Stack, proxy: Address) -> dict[str, float]:
    direct = stack.direct_address("redis")
    redis.Redis(host=direct.host, port=direct.port).set("bulk", b"x" * (16 * 2**20))
    via_proxy: list[float] = []
    via_direct: list[float] = []
    bulk_proxy: list[float] = []
    bulk_direct: list[float] = []
    for _ in range(5):  # interleaved blocks: both paths see the same machine load
        via_direct += _round_trips(direct, 400)
        via_proxy += _round_trips(proxy, 400)
        bulk_direct.append(_bulk_mb_s(direct))
        bulk_proxy.append(_bulk_mb_s(proxy))
    return {
        "direct_p50_ms": statistics.median(via_direct),
        "proxy_p50_ms": statistics.median(via_proxy),
        "added_p50_ms": statistics.median(via_proxy) - statistics.median(via_direct),
        "added_p99_ms": _percentile(via_proxy, 0.99) - _percentile(via_direct, 0.99),
        "bulk_direct_mb_s": statistics.median(bulk_direct),
        "bulk_proxy_mb_s": statistics.median(bulk_proxy),
        "bulk_ratio": statistics.median(bulk_proxy) / statistics.median(bulk_direct),
    }


def latency_accuracy(faults: Faults, proxy: Address) -> dict[str, float]:
    baseline = _round_trips(proxy, 200)
    with faults.latency("redis", ms=100):
        slowed = _round_trips(proxy, 200)
    base = statistics.median(baseline)
    return {
        "configured_ms": 100,
        "added_p50_ms": statistics.median(slowed) - base,
        "added_p99_ms": _percentile(slowed, 0.99) - base,
    }


def loss_accuracy(stack: Stack, packets: int = 1000) -> dict[str, float]:
    container = stack.containers()["redis"]
    network = next(iter(container.attrs["NetworkSettings"]["Networks"]))
    address = container.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]
    with Loss(Target("redis", container), percent=20):
        output = (
            _docker.client()
            .containers.run(
                images.NETFAULT_TAG,
                ["ping", "-q", "-n", "-c", str(packets), "-i", "0.005", "-W", "1", address],
                network=network,
                remove=True,
                labels={"org.mediastack-harness.run": stack.project},
            )
            .decode()
        )
    measured = float(re.search(r"([\d.]+)% packet loss", output)[1])  # type: ignore[index]
    return {"configured_percent": 20, "packets": packets, "measured_percent": measured}


def apply_clear_ms(faults: Faults, rounds: int = 50) -> dict[str, float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        faults.latency("redis", ms=10).clear()
        samples.append((time.perf_counter() - start) * 1000)
    faults.clear()
    return {"p50_ms": statistics.median(samples), "p99_ms": _percentile(samples, 0.99)}


def main() -> int:
    stack = Stack(new_project_name())
    figures: dict[str, object] = {}
    try:
        stack.up(["redis"])
        faults = Faults(stack, "bench")
        proxy = stack.ensure_proxies(["redis"], "bench")["redis"]
        figures["toxiproxy_version"] = stack.toxiproxy.version()
        figures["overhead"] = overhead(stack, proxy)
        figures["latency_100ms"] = latency_accuracy(faults, proxy)
        figures["loss_20pct"] = loss_accuracy(stack)
        figures["apply_clear"] = apply_clear_ms(faults)
    finally:
        stack.down()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "faults.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
