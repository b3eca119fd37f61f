"""Benchmark the ComfyUI mock: simple GET req/s and prompt->history throughput.

    .venv/bin/python benchmarks/bench_mocks_comfyui.py [--seconds 5] [--connections 32]
        [--prompts 200]

The server runs pinned to CPU 0 (`taskset -c 0` when available), the load generator on CPU 1.
Loopback only; request loops are bounded in count and time. Writes
benchmarks/results/bench_mocks_comfyui.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._process import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_mocks_comfyui.json"
NS_HEADER = "X-Harness-Namespace"
PROMPT: dict[str, Any] = {
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "cfg": 8,
            "denoise": 1,
            "latent_image": ["5", 0],
            "model": ["4", 0],
            "negative": ["7", 0],
            "positive": ["6", 0],
            "sampler_name": "euler",
            "scheduler": "normal",
            "seed": 5,
            "steps": 20,
        },
    },
    "4": {
        "class_type": "CheckpointLoaderSimple",
        "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"},
    },
    "5": {
        "class_type": "EmptyLatentImage",
        "inputs": {"batch_size": 1, "height": 512, "width": 512},
    },
    "6": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["4", 1], "text": "a man"}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["4", 1], "text": "bad hands"}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "bench", "images": ["8", 0]}},
}


def start_server(port: int, outdir: str) -> tuple[subprocess.Popen[bytes], bool]:
    """Start the mock pinned to CPU 0; wait for readiness (deadline 30 s)."""
    cmd = [sys.executable, "-m", "harness.mocks.comfyui", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--step-seconds", "0", "--output-dir", outdir]
    pinned = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    if pinned:
        cmd = ["taskset", "-c", "0", *cmd]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server exited")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/__harness/health", timeout=1).status_code == 200:
                return proc, pinned
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server not ready")


async def _get_loop(
    port: int, path: str, stop: float, budget: list[int], counts: list[int]
) -> None:
    """One keep-alive HTTP/1.1 connection issuing GETs back to back."""
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
            if not head.startswith(b"HTTP/1.1 200"):
                counts[1] += 1
            counts[0] += 1
    finally:
        writer.close()


async def bench_get(
    port: int, seconds: float, connections: int, max_requests: int
) -> dict[str, Any]:
    """Requests per second of GET /prompt (goes through the control middleware + journal)."""
    counts = [0, 0]
    budget = [max_requests]
    start = time.monotonic()
    stop = start + seconds
    await asyncio.gather(
        *(_get_loop(port, "/prompt", stop, budget, counts) for _ in range(connections))
    )
    elapsed = time.monotonic() - start
    return {
        "path": "GET /prompt",
        "requests": counts[0],
        "errors": counts[1],
        "seconds": round(elapsed, 3),
        "req_per_s": round(counts[0] / elapsed, 1),
        "connections": connections,
    }


async def bench_prompts(port: int, prompts: int, timeout: float) -> dict[str, Any]:
    """Submit `prompts` 512x512 / 20-step prompts, wait until all are in /history."""
    headers = {NS_HEADER: "bench-prompts"}
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits, timeout=30
    ) as client:
        await client.post("/__harness/reset")
        start = time.monotonic()
        sem = asyncio.Semaphore(16)

        async def submit(i: int) -> str:
            body = {
                "prompt": {
                    **PROMPT,
                    "3": {**PROMPT["3"], "inputs": {**PROMPT["3"]["inputs"], "seed": i}},
                }
            }
            async with sem:
                r = await client.post("/prompt", json=body)
            r.raise_for_status()
            return str(r.json()["prompt_id"])

        ids = await asyncio.gather(*(submit(i) for i in range(prompts)))
        submitted = time.monotonic() - start
        deadline = start + timeout
        done = 0
        while time.monotonic() < deadline:  # cheap poll; the full history is read once
            info = (await client.get("/prompt")).json()
            if info["exec_info"]["queue_remaining"] == 0:
                break
            await asyncio.sleep(0.02)
        elapsed = time.monotonic() - start
        history = (await client.get("/history")).json()
        done = sum(1 for pid in ids if pid in history)
        ok = sum(
            1
            for pid in ids
            if history.get(pid, {}).get("status", {}).get("status_str") == "success"
        )
    return {
        "prompts": prompts,
        "completed": done,
        "succeeded": ok,
        "submit_seconds": round(submitted, 3),
        "seconds": round(elapsed, 3),
        "prompts_per_s": round(done / elapsed, 1),
        "image": "512x512 PNG, 20 steps, step time 0",
    }


def main() -> None:
    """Run both benchmarks, print figures, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {1})
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-comfyui-") as outdir:
        proc, pinned = start_server(port, outdir)
        try:
            get = asyncio.run(bench_get(port, args.seconds, args.connections, args.max_requests))
            prompts = asyncio.run(bench_prompts(port, args.prompts, args.timeout))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    result = {
        "benchmark": "bench_mocks_comfyui",
        "server_pinned_cpu0": pinned,
        "cpus": os.cpu_count(),
        "simple_get": {**get, "target_req_per_s": 1000},
        "prompt_to_history": {**prompts, "target_prompts_per_s": 50},
        "time": time.time(),
    }
    print(
        f"simple GET: {get['req_per_s']} req/s ({get['requests']} requests, {get['errors']} errors)"
    )
    print(
        f"prompt->history: {prompts['prompts_per_s']} prompts/s "
        f"({prompts['completed']}/{prompts['prompts']} done, {prompts['succeeded']} succeeded)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
