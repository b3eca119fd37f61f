"""Benchmark the toxiproxy mock: proxy overhead vs a direct connection, latency accuracy,
time to apply and clear a toxic over HTTP. Loopback only; bounded in count and time.

    .venv/bin/python benchmarks/bench_toxiproxy.py [--rounds 2000] [--bulk-mb 256]

Prints the figures and writes benchmarks/results/bench_toxiproxy.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._process import cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_toxiproxy.json"

TARGETS = {
    "added_p50_ms": 0.3,
    "bulk_ratio": 0.5,
    "latency_p50_error_ms": 3.0,
    "latency_p99_over_ms": 15.0,
    "apply_clear_ms": 20.0,
}

# A small echo / sink backend on uvloop (if installed), run as its own process so the
# measuring client does not share a GIL with it. First byte selects the mode:
# b"E" echo every chunk; b"S" read an 8-byte length, swallow that many bytes, answer b"K".
BACKEND = r"""
import asyncio, socket, struct, sys

class Backend(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.mode = None
        self.left = None
        self.head = b""
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        if self.mode is None:
            self.mode, data = data[:1], data[1:]
        if self.mode == b"E":
            if data:
                self.t.write(data)
            return
        if self.left is None:
            self.head += data
            if len(self.head) < 8:
                return
            self.left = struct.unpack("!Q", self.head[:8])[0]
            data = self.head[8:]
        self.left -= len(data)
        if self.left <= 0:
            self.t.write(b"K")
            self.left = None
            self.head = b""

async def main():
    server = await asyncio.get_running_loop().create_server(Backend, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

try:
    import uvloop
    uvloop.run(main())
except ImportError:
    asyncio.run(main())
"""


# Reference: the least a Python relay can do (uvloop protocols, write-through, no toxics,
# no API). Shows how much of the bulk gap is the mock and how much is Python + CPU count.
RELAY = r"""
import asyncio, sys
HOST, PORT = sys.argv[1].rsplit(":", 1)

class Side(asyncio.Protocol):
    peer = None
    def connection_made(self, t):
        self.t, self.early = t, []
    def data_received(self, d):
        self.peer.t.write(d) if self.peer else self.early.append(d)
    def pause_writing(self):
        self.peer.t.pause_reading()
    def resume_writing(self):
        self.peer.t.resume_reading()
    def connection_lost(self, exc):
        if self.peer:
            self.peer.t.close()

class Client(Side):
    def connection_made(self, t):
        super().connection_made(t)
        asyncio.ensure_future(self.dial())
    async def dial(self):
        _, up = await asyncio.get_running_loop().create_connection(Side, HOST, int(PORT))
        up.peer, self.peer = self, up
        for d in self.early:
            up.t.write(d)

async def main():
    server = await asyncio.get_running_loop().create_server(Client, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

try:
    import uvloop
    uvloop.run(main())
except ImportError:
    asyncio.run(main())
"""


def start_script(script: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    """Run a helper script that prints its port; return it and its `host:port`."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"127.0.0.1:{port}"


def start_toxiproxy() -> tuple[subprocess.Popen[bytes], str, Path]:
    """Start `python -m harness.mocks.toxiproxy --port 0`; return it, its API URL and its log."""
    log = Path(tempfile.mkstemp(prefix="bench-toxiproxy-", suffix=".log")[1])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "harness.mocks.toxiproxy", "--host", "127.0.0.1", "--port", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if '"listening"' in line:
                url = f"http://127.0.0.1:{json.loads(line)['port']}"
                try:
                    httpx.get(url + "/version", timeout=1).raise_for_status()
                    return proc, url, log
                except httpx.HTTPError:
                    pass
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait(10)
    text = log.read_text()
    log.unlink(missing_ok=True)
    raise SystemExit("toxiproxy mock did not start:\n" + text)


def dial(address: str, mode: bytes) -> socket.socket:
    """Connect, set TCP_NODELAY, send the mode byte."""
    host, port = address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(mode)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> None:
    """Read `size` bytes."""
    left = size
    while left:
        data = sock.recv(left)
        if not data:
            raise ConnectionError("EOF")
        left -= len(data)


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def round_trips(address: str, rounds: int, budget_s: float, size: int = 64) -> list[float]:
    """Round-trip times (ms) of `size`-byte echoes on one connection."""
    payload = b"x" * size
    samples: list[float] = []
    with dial(address, b"E") as sock:
        for _ in range(20):  # warm-up
            sock.sendall(payload)
            recv_exactly(sock, size)
        deadline = time.monotonic() + budget_s
        for _ in range(rounds):
            started = time.perf_counter()
            sock.sendall(payload)
            recv_exactly(sock, size)
            samples.append((time.perf_counter() - started) * 1000)
            if time.monotonic() > deadline:
                break
    return samples


def bulk_mb_s(address: str, total_mb: int, budget_s: float) -> float:
    """Upload throughput (MB/s) of one connection into the sink."""
    chunk = b"\0" * (1 << 20)
    with dial(address, b"S") as sock:
        sock.sendall(struct.pack("!Q", total_mb << 20))
        started = time.perf_counter()
        for sent in range(1, total_mb + 1):
            sock.sendall(chunk)
            if time.perf_counter() - started > budget_s:
                sock.sendall(b"\0" * ((total_mb - sent) << 20))  # finish the announced size
                break
        recv_exactly(sock, 1)
        return total_mb / (time.perf_counter() - started)


def timed_ms(fn: Callable[[], Any]) -> float:
    """Run `fn` and return its duration in ms."""
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--bulk-mb", type=int, default=256)
    parser.add_argument("--latency-rounds", type=int, default=100)
    parser.add_argument("--toggle-rounds", type=int, default=100)
    args = parser.parse_args()

    procs: list[subprocess.Popen[Any]] = []
    log: Path | None = None
    try:
        backend, upstream = start_script(BACKEND)
        procs.append(backend)
        relay, relay_address = start_script(RELAY, upstream)
        procs.append(relay)
        proxy_proc, url, log = start_toxiproxy()
        procs.append(proxy_proc)
        with httpx.Client(base_url=url, timeout=10) as api:
            created = api.post(
                "/proxies", json={"name": "bench", "listen": "127.0.0.1:0", "upstream": upstream}
            )
            created.raise_for_status()
            listen = created.json()["listen"]

            # Interleave direct and proxied blocks so drift hits both alike.
            direct: list[float] = []
            proxied: list[float] = []
            block = max(args.rounds // 4, 1)
            for _ in range(4):
                direct += round_trips(upstream, block, 15)
                proxied += round_trips(listen, block, 15)
            d50, d99 = percentile(direct, 50), percentile(direct, 99)
            p50, p99 = percentile(proxied, 50), percentile(proxied, 99)

            bulk: dict[str, list[float]] = {"direct": [], "relay": [], "proxy": []}
            cpu_busy: list[float] = []  # share of one CPU the mock used while proxying bulk
            for _ in range(3):  # interleaved; best of three each
                bulk["direct"].append(bulk_mb_s(upstream, args.bulk_mb, 20))
                bulk["relay"].append(bulk_mb_s(relay_address, args.bulk_mb, 20))
                cpu_before, wall_before = cpu_seconds(proxy_proc.pid), time.perf_counter()
                bulk["proxy"].append(bulk_mb_s(listen, args.bulk_mb, 20))
                cpu_busy.append(
                    (cpu_seconds(proxy_proc.pid) - cpu_before) / (time.perf_counter() - wall_before)
                )
            bulk_direct, bulk_relay, bulk_proxy = (
                max(bulk[k]) for k in ("direct", "relay", "proxy")
            )

            api.post(
                "/proxies/bench/toxics",
                json={"type": "latency", "attributes": {"latency": 100}},
            ).raise_for_status()
            with_latency = round_trips(listen, args.latency_rounds, 30)
            added = [s - d50 for s in with_latency]
            api.delete("/proxies/bench/toxics/latency_downstream").raise_for_status()

            toggles = []
            for _ in range(args.toggle_rounds):

                def toggle() -> None:
                    api.post(
                        "/proxies/bench/toxics",
                        json={"name": "t", "type": "latency", "attributes": {"latency": 1}},
                    ).raise_for_status()
                    api.delete("/proxies/bench/toxics/t").raise_for_status()

                toggles.append(timed_ms(toggle))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
        if log is not None:
            log.unlink(missing_ok=True)

    results: dict[str, Any] = {
        "round_trip_ms": {
            "direct_p50": d50,
            "direct_p99": d99,
            "proxy_p50": p50,
            "proxy_p99": p99,
            "added_p50": p50 - d50,
            "added_p99": p99 - d99,
            "samples": len(proxied),
        },
        "bulk_mb_s": {
            "direct": bulk_direct,
            "proxy": bulk_proxy,
            "ratio": bulk_proxy / bulk_direct,
            "reference_relay": bulk_relay,
            "reference_relay_ratio": bulk_relay / bulk_direct,
            "mock_cpu_share_while_proxying": max(cpu_busy),
            "mb": args.bulk_mb,
        },
        "latency_100ms": {
            "added_p50": percentile(added, 50),
            "added_p99": percentile(added, 99),
            "added_mean": statistics.fmean(added),
            "samples": len(added),
        },
        "apply_clear_ms": {
            "p50": percentile(toggles, 50),
            "p99": percentile(toggles, 99),
            "samples": len(toggles),
        },
        "targets": TARGETS,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
        "uvloop": _has_uvloop(),
    }
    checks = {
        "added_p50_ms": results["round_trip_ms"]["added_p50"] <= TARGETS["added_p50_ms"],
        "bulk_ratio": results["bulk_mb_s"]["ratio"] >= TARGETS["bulk_ratio"],
        "latency_p50_error_ms": abs(results["latency_100ms"]["added_p50"] - 100)
        <= TARGETS["latency_p50_error_ms"],
        "latency_p99_over_ms": results["latency_100ms"]["added_p99"] - 100
        <= TARGETS["latency_p99_over_ms"],
        "apply_clear_ms": results["apply_clear_ms"]["p50"] <= TARGETS["apply_clear_ms"],
    }
    results["met"] = checks
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")

    rt, bulk, lat, tog = (
        results["round_trip_ms"],
        results["bulk_mb_s"],
        results["latency_100ms"],
        results["apply_clear_ms"],
    )
    print(f"round trip 64 B  direct p50 {d50:.3f} ms p99 {d99:.3f} ms ({rt['samples']} samples)")
    print(f"                 proxy  p50 {p50:.3f} ms p99 {p99:.3f} ms")
    print(f"                 added  p50 {rt['added_p50']:.3f} ms p99 {rt['added_p99']:.3f} ms")
    print(f"bulk upload      direct {bulk_direct:.0f} MB/s, proxy {bulk_proxy:.0f} MB/s")
    print(
        f"                 ratio {bulk['ratio']:.2f}; bare uvloop relay {bulk_relay:.0f} MB/s"
        f" (ratio {bulk['reference_relay_ratio']:.2f})"
    )
    print(f"                 mock process busy {max(cpu_busy):.0%} of a CPU while proxying")
    print(f"latency 100 ms   added p50 {lat['added_p50']:.2f} ms p99 {lat['added_p99']:.2f} ms")
    print(f"toxic apply+clear p50 {tog['p50']:.2f} ms p99 {tog['p99']:.2f} ms")
    print("targets met: " + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in checks.items()))
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


def _has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
