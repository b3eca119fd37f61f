"""Benchmark simple GET req/s of the Cablecast and Wan2GP mocks.

    .venv/bin/python benchmarks/bench_mocks_cablecast_wan2gp.py [--seconds 5] [--connections 16]
        [--max-requests 50000]

Reports wall-clock req/s and req per server CPU-second (the capacity of one dedicated core,
meaningful when other processes share CPU 0). Each server runs pinned to CPU 0 (`taskset -c 0`
when available); the load generator (raw keep-alive HTTP/1.1 over asyncio) runs on the other
CPUs. Loopback only; loops are bounded in count and time. Prints figures and writes
benchmarks/results/bench_mocks_cablecast_wan2gp.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._process import cpu_seconds, free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_mocks_cablecast_wan2gp.json"
TARGET_RPS = 1000

# (mock, extra args, GET paths to measure)
CASES: list[tuple[str, list[str], list[str]]] = [
    ("cablecast", [], ["/cablecastapi/v1/channels", "/cablecastapi/v1/shows/1"]),
    ("wan2gp", [], ["/gradio_api/app_id", "/", "/config", "/gradio_api/info"]),
]


def _get_status(port: int, path: str) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        head = conn.recv(64)
    return int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0


def start_server(name: str, args: list[str], port: int) -> tuple[subprocess.Popen[bytes], bool]:
    """Start `python -m harness.mocks.<name>` on CPU 0; wait for readiness (deadline 90 s)."""
    cmd = [sys.executable, "-m", f"harness.mocks.{name}", "--host", "127.0.0.1"]
    cmd += ["--port", str(port)]
    pinned = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    if pinned:
        cmd = ["taskset", "-c", "0", *cmd]
    cmd += args
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        try:
            if _get_status(port, "/__harness/health") == 200:
                return proc, pinned
        except OSError:
            pass
        time.sleep(0.1)  # readiness poll interval (bounded by the deadline)
    proc.kill()
    raise RuntimeError(f"{name} not ready")


async def _get_loop(
    port: int, path: str, stop: float, budget: list[int], counts: list[int]
) -> None:
    """One keep-alive connection issuing GETs back to back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    try:
        while time.monotonic() < stop and budget[0] > 0:
            budget[0] -= 1
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            counts[0] += 1
            if not head.startswith(b"HTTP/1.1 200"):
                counts[1] += 1
    finally:
        writer.close()


async def bench_get(
    port: int, path: str, seconds: float, connections: int, max_requests: int
) -> dict[str, Any]:
    """Requests per second of GET `path` over `connections` keep-alive connections."""
    counts = [0, 0]
    budget = [max_requests]
    started = time.monotonic()
    stop = started + seconds
    await asyncio.gather(*(_get_loop(port, path, stop, budget, counts) for _ in range(connections)))
    elapsed = time.monotonic() - started
    return {
        "path": path,
        "requests": counts[0],
        "errors": counts[1],
        "seconds": round(elapsed, 3),
        "rps": round(counts[0] / elapsed, 1),
    }


def main() -> int:
    """Run every case; print a table; write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=50000)
    opts = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, set(range(1, os.cpu_count() or 2)))
    results: list[dict[str, Any]] = []
    for name, args, paths in CASES:
        port = free_port()
        proc, pinned = start_server(name, args, port)
        try:
            for path in paths:
                asyncio.run(bench_get(port, path, 0.5, 4, 500))  # warm-up
                cpu_before = cpu_seconds(proc.pid)
                row = asyncio.run(
                    bench_get(port, path, opts.seconds, opts.connections, opts.max_requests)
                )
                cpu = cpu_seconds(proc.pid) - cpu_before
                # Requests per CPU-second of the server: the capacity of one dedicated core,
                # robust to other processes competing for CPU 0.
                row["server_cpu_seconds"] = round(cpu, 2)
                row["rps_per_server_cpu_second"] = round(row["requests"] / cpu, 1) if cpu else None
                row.update(
                    mock=name,
                    server_pinned_cpu0=pinned,
                    meets_target=row["errors"] == 0
                    and max(row["rps"], row["rps_per_server_cpu_second"] or 0) >= TARGET_RPS,
                )
                results.append(row)
                print(
                    f"{name:10s} GET {path:24s} {row['rps']:8.1f} req/s wall, "
                    f"{row['rps_per_server_cpu_second'] or 0:8.1f} req/server-CPU-s "
                    f"({row['requests']} requests, {row['errors']} errors, pinned={pinned})"
                )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "bench_mocks_cablecast_wan2gp",
        "target_rps": TARGET_RPS,
        "connections": opts.connections,
        "time": time.time(),
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        "results": results,
    }
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"load average (1 min) at end: {payload['loadavg_1m_at_end']}")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
