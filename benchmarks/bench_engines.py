"""The stack on each engine, side by side in one run: start-up against raw `docker compose up
--wait` on the same engine, a proxy against a direct connection to the same backend, and the
stack's memory with a proxy pool sized for 2 and for 8 xdist workers.

    python benchmarks/bench_engines.py [--engines rootful,rootless,remote,podman] [--rounds 3]

Engines other than the machine's own come from tests/integration/_engines.py (root; they are
stopped again afterwards when this started them). Each engine is measured in a child process of
its own (the harness talks to one engine per process), with DOCKER_HOST set, and on the remote
engine HARNESS_PUBLISH_HOST set to its private address. Writes results/engines.json.

- up: `Stack.up(["redis"])` (Redis behind Toxiproxy) vs raw `docker compose up -d --wait
  toxiproxy redis` of the same compose file, warm images, medians of `--rounds`.
- proxy: Redis PING round trips (p50) through the worker's proxy vs to Redis's own published
  port, and bulk (SET and GET of 4 MiB values) MB/s through the proxy vs direct.
- memory (the local rootful engine, where every published port costs a `docker-proxy`
  process): the default stack with the pool sized for N workers and every worker's proxies
  made: the containers' memory (cgroup usage less inactive file cache) plus the PSS of the
  engine's `docker-proxy` processes (their RSS too: mostly the one binary's shared pages).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._results import publish  # noqa: E402

ROUNDS = 3
PINGS = 2000
BULK_MB = 64


def _timed(action: Any) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def _pings(host: str, port: int) -> list[float]:
    import redis

    client = redis.Redis(host, port, socket_timeout=10)
    client.ping()
    samples = []
    for _ in range(PINGS):
        began = time.perf_counter()
        client.ping()
        samples.append((time.perf_counter() - began) * 1000)
    client.close()
    return samples


def _bulk_mb_s(host: str, port: int) -> float:
    import redis

    client = redis.Redis(host, port, socket_timeout=60)
    value = os.urandom(4 * 2**20)
    began = time.perf_counter()
    for index in range(BULK_MB // 8):  # each round moves 8 MiB: 4 up, 4 down
        client.set(f"bulk{index % 4}", value)
        assert len(client.get(f"bulk{index % 4}") or b"") == len(value)
    seconds = time.perf_counter() - began
    client.flushdb()
    client.close()
    return BULK_MB / seconds


def _docker_proxy_mib() -> tuple[float, float]:
    """The engine's `docker-proxy` processes: their RSS, and their PSS (shared pages, their Go
    binary's mostly, counted once across them: what they cost)."""
    rss = pss = 0
    for rollup in Path("/proc").glob("[0-9]*/smaps_rollup"):
        try:
            if (rollup.parent / "comm").read_text().strip() != "docker-proxy":
                continue
            fields = dict(line.split(":", 1) for line in rollup.read_text().splitlines()[1:])
        except (OSError, ValueError):
            continue
        rss += int(fields["Rss"].split()[0])
        pss += int(fields["Pss"].split()[0])
    return rss / 1024, pss / 1024


def _containers_mib(stack: Any) -> float:
    total = 0
    for container in stack.containers().values():
        usage = container.stats(stream=False).get("memory_stats", {})
        total += usage.get("usage", 0) - usage.get("stats", {}).get("inactive_file", 0)
    return total / 2**20


def measure_engine(rounds: int) -> dict[str, Any]:
    """In the child: every figure for the engine DOCKER_HOST names."""
    from harness import _docker
    from harness._compose import Compose
    from harness._stack import Stack, new_project_name
    from harness._stack.proxies import POOL_SIZE_VAR

    client = _docker.client()
    kind = _docker.engine_kind(client.info(), client.version())
    figures: dict[str, Any] = {"kind": kind, "docker_host": os.environ.get("DOCKER_HOST", "")}
    harness_up, raw_up = [], []
    # Podman without systemd runs no healthchecks: `compose up --wait` never returns there
    raw_waits = kind != "Podman"
    for _ in range(rounds):
        stack = Stack(new_project_name())
        harness_up.append(_timed(lambda s=stack: s.up(["redis"])))
        stack.down()
        if raw_waits:
            raw = Compose(new_project_name(), [stack.compose.files[0]], {"HARNESS_OWNER": "kept"})
            raw.env["HARNESS_RUN_ID"] = raw.project
            up = ("up", "-d", "--wait", "toxiproxy", "redis")
            raw_up.append(_timed(lambda r=raw, args=up: r.run(*args)))
            raw.down()
    figures["up"] = {"harness_median_s": statistics.median(harness_up)}
    if raw_up:
        figures["up"]["raw_compose_wait_median_s"] = statistics.median(raw_up)
        figures["up"]["ratio"] = statistics.median(harness_up) / statistics.median(raw_up)
    else:
        figures["up"]["raw_compose_wait"] = "never returns: the engine runs no healthchecks"

    stack = Stack(new_project_name())
    try:
        stack.up(["redis"])
        proxy = stack.ensure_proxies(["redis"], "bench")["redis"]
        direct = stack.direct_address("redis")
        through, straight = _pings(proxy.host, proxy.port), _pings(direct.host, direct.port)
        bulk_proxy = _bulk_mb_s(proxy.host, proxy.port)
        bulk_direct = _bulk_mb_s(direct.host, direct.port)
        figures["proxy"] = {
            "direct_p50_ms": statistics.median(straight),
            "proxy_p50_ms": statistics.median(through),
            "added_p50_ms": statistics.median(through) - statistics.median(straight),
            "bulk_direct_mb_s": bulk_direct,
            "bulk_proxy_mb_s": bulk_proxy,
            "bulk_ratio": bulk_proxy / bulk_direct,
        }
    finally:
        stack.down()

    if kind != "rootful Docker" or _docker.remote_host() is not None:
        return figures  # memory: where published ports cost a docker-proxy each
    for workers in (2, 8):
        os.environ.pop(POOL_SIZE_VAR, None)
        stack = Stack(new_project_name())
        try:
            names = stack.up(clients=workers)
            backends = [name for name in names if name in stack.topology.services]
            for worker in range(workers):
                stack.ensure_proxies(backends, f"gw{worker}")
            samples = [_containers_mib(stack) for _ in range(3)]
            rss, pss = _docker_proxy_mib()
            figures[f"memory_{workers}_workers"] = {
                "published_proxy_ports": len(stack._proxies.published()),
                "containers_mib": max(samples),
                "docker_proxy_rss_mib": rss,
                "docker_proxy_pss_mib": pss,
                "total_mib": max(samples) + pss,
            }
        finally:
            stack.down()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engines", default="rootful,rootless,remote,podman")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_engine(args.rounds)))
        return 0
    from harness import _topology as topology
    from tests.integration import _engines

    names = args.engines.split(",")
    found = _engines.up(names)
    figures: dict[str, Any] = {"rounds": args.rounds, "pings": PINGS, "bulk_mb": BULK_MB}
    try:
        for name, engine in found.items():
            if engine.error:
                figures[name] = {"error": engine.error}
                continue
            if name != "rootful":  # Redis's and Toxiproxy's images, by `docker save | load`
                stack = topology.load()
                tags = (stack.get("redis").image, stack.proxy_image)
                loader = ["podman", "load"] if name == "podman" else None
                _engines.load_images(engine.docker_host, tags, loader)
            env = {k: v for k, v in engine.env.items() if not k.startswith("PYTEST_")}
            if name == "remote":
                env["HARNESS_PUBLISH_HOST"] = _engines.REMOTE_IP
            done = subprocess.run(
                [sys.executable, __file__, "--child", "--rounds", str(args.rounds)],
                env=env,
                capture_output=True,
                text=True,
                timeout=3600,
            )
            if done.returncode != 0:
                figures[name] = {"error": (done.stderr or done.stdout).strip()[-2000:]}
                continue
            figures[name] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        _engines.down([name for name, engine in found.items() if engine.started])
    publish("engines", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
