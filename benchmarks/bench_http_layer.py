"""What the HTTP fault layer costs a client: the stack's HTTP path (client -> Toxiproxy -> layer
route -> backend) against the Toxiproxy proxy alone (client -> Toxiproxy -> backend) and the
backend direct, side by side in one run. Local processes on 127.0.0.1 only; bounded in count and
time; no Docker.

    .venv/bin/python benchmarks/bench_http_layer.py [--requests 2000] [--bulk-mib 64]

Paths: `direct` (client -> backend), `toxiproxy` (A: the TCP proxy alone), `layer` (client ->
layer route -> backend, for reference), `stack` (B: client -> Toxiproxy -> layer route ->
backend), `stack_rule` (B with one rule on its route that matches no request).

Figures: small-GET latency p50/p99 per path and the layer's added latency (B - A); bulk download
MB/s and its ratios to direct; chunked streaming (many 1 KiB chunks, no sleeps) chunks/s and
ratios; the cost of a non-matching rule (stack_rule vs stack); the CPU each process spent per
request or per MB (where the time goes). Targets from the issue: added p50 <= 0.3 ms, bulk and
streaming >= 0.9x direct, a non-matching rule costs nothing. Nothing is asserted on timing: the
figures are printed and written to benchmarks/results/http_layer.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._process import cpu_seconds, free_port  # noqa: E402
from benchmarks._results import publish  # noqa: E402

TARGETS = {
    "added_p50_ms": 0.3,
    "bulk_ratio_stack_direct": 0.9,
    "stream_ratio_stack_direct": 0.9,
    "rule_p50_ratio": 1.05,  # "costs nothing": within the noise of one run
}
PATHS = ("direct", "toxiproxy", "layer", "stack", "stack_rule")
NO_MATCH_RULE = {"status": 503, "path": "/never"}

# The backend: Starlette on uvicorn (uvloop + httptools when installed), as its own process so
# the measuring client does not share a GIL with it. `/echo` a small JSON body, `/big` a body of
# argv[1] KiB (built once), `/stream?n=N&size=S` N chunks of S bytes, chunked, without sleeps.
BACKEND = r"""
import socket, sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

BLOB = bytes(range(256)) * (int(sys.argv[1]) * 4)

async def echo(request):
    return Response(b'{"ok":true}', media_type="application/json")

async def big(request):
    return Response(BLOB, media_type="application/octet-stream")

async def stream(request):
    count = int(request.query_params.get("n", "20000"))
    piece = b"x" * int(request.query_params.get("size", "1024"))

    async def pieces():
        for _ in range(count):
            yield piece

    return StreamingResponse(pieces(), media_type="application/octet-stream")

app = Starlette(routes=[Route("/echo", echo), Route("/big", big), Route("/stream", stream)])
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
sock.listen(1024)
print(sock.getsockname()[1], flush=True)
config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
uvicorn.Server(config).run(sockets=[sock])
"""


# -- processes -----------------------------------------------------------------------------------
class Processes:
    """The processes this run starts, their logs, and their CPU time."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}

    def start(self, name: str, command: list[str], stdout: int | IO[bytes] | None = None) -> None:
        log = Path(tempfile.mkstemp(prefix=f"bench-http-layer-{name}-", suffix=".log")[1])
        self.logs[name] = log
        with log.open("wb") as err:
            self.procs[name] = subprocess.Popen(
                command,
                stdout=err if stdout is None else stdout,
                stderr=err,
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")

    def cpu(self) -> dict[str, float]:
        """CPU seconds (user + system) of each process, and of this one (`client`)."""
        seconds = {name: cpu_seconds(proc.pid) for name, proc in self.procs.items()}
        seconds["client"] = time.process_time()
        return seconds

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            if proc.stdout is not None:
                proc.stdout.close()
        for log in self.logs.values():
            log.unlink(missing_ok=True)


def wait_ready(processes: Processes, name: str, url: str, timeout: float = 30) -> None:
    """Poll `url` until it answers 200; the process's log if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if processes.procs[name].poll() is not None:
            break
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{name} did not start:\n{processes.log(name)}")


def start_all(processes: Processes, bulk_kib: int) -> tuple[str, str, str]:
    """Backend, Toxiproxy stand-in, HTTP layer; their addresses (`host:port`, API URL, API URL)."""
    processes.start("backend", [sys.executable, "-c", BACKEND, str(bulk_kib)], subprocess.PIPE)
    stdout = processes.procs["backend"].stdout
    assert stdout is not None
    line = stdout.readline()
    if not line.strip():
        raise SystemExit("backend did not start:\n" + processes.log("backend"))
    backend = f"127.0.0.1:{int(line)}"
    toxiproxy_port, layer_port = str(free_port()), str(free_port())
    toxiproxy = f"http://127.0.0.1:{toxiproxy_port}"
    mock = [sys.executable, "-m", "harness.mocks.toxiproxy", "--host", "127.0.0.1"]
    processes.start("toxiproxy", [*mock, "--port", toxiproxy_port])
    layer = f"http://127.0.0.1:{layer_port}"
    mock = [sys.executable, "-m", "harness.mocks.httpfaults", "--host", "127.0.0.1"]
    processes.start("layer", [*mock, "--port", layer_port, "--seed", "1"])
    wait_ready(processes, "backend", f"http://{backend}/echo")
    wait_ready(processes, "toxiproxy", toxiproxy + "/version")
    wait_ready(processes, "layer", layer + "/version")
    return backend, toxiproxy, layer


def build_paths(backend: str, toxiproxy: str, layer: str) -> dict[str, str]:
    """Proxies and routes for every path; each path's base URL."""
    with httpx.Client(timeout=10) as api:

        def route(name: str) -> str:
            created = api.post(f"{layer}/routes", json={"name": name, "upstream": backend})
            created.raise_for_status()
            return f"127.0.0.1:{created.json()['port']}"

        def proxy(name: str, upstream: str) -> str:
            body = {"name": name, "listen": "127.0.0.1:0", "upstream": upstream}
            created = api.post(f"{toxiproxy}/proxies", json=body)
            created.raise_for_status()
            return str(created.json()["listen"])

        plain, ruled = route("bench"), route("bench-rule")
        api.post(f"{layer}/routes/bench-rule/faults", json=NO_MATCH_RULE).raise_for_status()
        addresses = {
            "direct": backend,
            "toxiproxy": proxy("bench-tcp", backend),
            "layer": plain,
            "stack": proxy("bench-stack", plain),
            "stack_rule": proxy("bench-stack-rule", ruled),
        }
    return {path: f"http://{address}" for path, address in addresses.items()}


# -- measurements --------------------------------------------------------------------------------
def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


class Cpu:
    """CPU seconds each process spent while a path was measured, summed over its blocks."""

    def __init__(self, processes: Processes) -> None:
        self.processes = processes
        self.spent: dict[str, dict[str, float]] = {path: {} for path in PATHS}
        self.units: dict[str, float] = {}  # the work done per path: requests, MB

    def measure(self, path: str, action: Callable[[], Any]) -> Any:
        before = self.processes.cpu()
        result = action()
        after = self.processes.cpu()
        for name, value in after.items():
            self.spent[path][name] = self.spent[path].get(name, 0.0) + value - before[name]
        return result

    def per(self, scale: float) -> dict[str, dict[str, float]]:
        """CPU per unit of work (`scale`: 1e6 for µs) of each process, per path."""
        return {
            path: {name: round(spent / self.units[path] * scale, 1) for name, spent in used.items()}
            for path, used in self.spent.items()
            if self.units.get(path)
        }


def small_gets(client: httpx.Client, count: int, deadline: float) -> list[float]:
    """Round-trip times (ms) of `count` GET /echo on one kept-alive connection."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get("/echo")
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET /echo answered {response.status_code}: {response.text}")
        if time.monotonic() > deadline:
            break
    return samples


def download(client: httpx.Client, url: str, params: dict[str, Any] | None = None) -> int:
    """Bytes of one streamed response body (not kept)."""
    size = 0
    with client.stream("GET", url, params=params) as response:
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
        for piece in response.iter_raw():
            size += len(piece)
    return size


def latency(
    clients: dict[str, httpx.Client], cpu: Cpu, requests: int, rounds: int, budget_s: float
) -> dict[str, list[float]]:
    """Small-GET round trips per path, in interleaved blocks (the order rotates every round)."""
    samples: dict[str, list[float]] = {path: [] for path in PATHS}
    for client in clients.values():  # warm-up: connections open, code paths hot
        small_gets(client, 200, time.monotonic() + 10)
    deadline = time.monotonic() + budget_s
    block = max(requests // rounds, 1)
    for number in range(rounds):
        order = PATHS[number % len(PATHS) :] + PATHS[: number % len(PATHS)]
        for path in order:
            samples[path] += cpu.measure(path, partial(small_gets, clients[path], block, deadline))
    return samples


def throughput(
    clients: dict[str, httpx.Client],
    cpu: Cpu,
    rounds: int,
    budget_s: float,
    fetch: Callable[[httpx.Client], int],
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """MB/s of each path in each of the interleaved rounds of `fetch` (which returns bytes), and
    the MB each path moved in all."""
    rates: dict[str, list[float]] = {path: [] for path in PATHS}
    moved: dict[str, float] = dict.fromkeys(PATHS, 0.0)
    deadline = time.monotonic() + budget_s
    for number in range(rounds):
        order = PATHS[number % len(PATHS) :] + PATHS[: number % len(PATHS)]
        for path in order:
            started = time.perf_counter()
            size = cpu.measure(path, partial(fetch, clients[path]))
            rates[path].append(size / 1e6 / (time.perf_counter() - started))
            moved[path] += size / 1e6
        if time.monotonic() > deadline:
            break
    return rates, moved


# -- the run -------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000, help="small GETs per path")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved blocks")
    parser.add_argument("--bulk-mib", type=int, default=64, help="downloaded per path per round")
    parser.add_argument("--body-mib", type=int, default=4, help="size of one bulk response")
    parser.add_argument("--chunks", type=int, default=20000, help="chunks per streamed response")
    parser.add_argument("--chunk-size", type=int, default=1024)
    parser.add_argument("--throughput-rounds", type=int, default=5, help="best of")
    args = parser.parse_args()

    began, load_at_start = time.monotonic(), os.getloadavg()[0]
    processes = Processes()
    try:
        backend, toxiproxy, layer = start_all(processes, args.body_mib * 1024)
        urls = build_paths(backend, toxiproxy, layer)
        clients = {path: httpx.Client(base_url=url, timeout=30) for path, url in urls.items()}
        try:
            lat_cpu, bulk_cpu, stream_cpu = Cpu(processes), Cpu(processes), Cpu(processes)
            samples = latency(clients, lat_cpu, args.requests, args.rounds, budget_s=120)
            per_request = args.bulk_mib // args.body_mib or 1

            def bulk(client: httpx.Client) -> int:
                return sum(download(client, "/big") for _ in range(per_request))

            bulk_rates, bulk_mb = throughput(clients, bulk_cpu, args.throughput_rounds, 90, bulk)
            query = {"n": args.chunks, "size": args.chunk_size}
            stream_rates, stream_mb = throughput(
                clients,
                stream_cpu,
                args.throughput_rounds,
                90,
                lambda client: download(client, "/stream", query),
            )
        finally:
            for client in clients.values():
                client.close()
        with httpx.Client(base_url=layer, timeout=10) as api:
            routes = api.get("/routes").json()
    finally:
        processes.stop()
    elapsed = time.monotonic() - began

    lat_cpu.units = {path: len(values) for path, values in samples.items()}
    bulk_cpu.units, stream_cpu.units = bulk_mb, stream_mb
    figures = report(
        args, samples, bulk_rates, stream_rates, (lat_cpu, bulk_cpu, stream_cpu), routes
    )
    figures["run_s"] = round(elapsed, 1)
    figures["load_average_1m_at_start"] = round(load_at_start, 2)
    path = publish("http_layer", figures)
    print()
    table(figures)
    print(f"wrote {path.relative_to(ROOT)} in {elapsed:.0f} s")
    return 0


def report(
    args: argparse.Namespace,
    samples: dict[str, list[float]],
    bulk_rates: dict[str, list[float]],
    stream_rates: dict[str, list[float]],
    cpus: tuple[Cpu, Cpu, Cpu],
    routes: dict[str, Any],
) -> dict[str, Any]:
    """The figures: per path, the layer's share, the rule's, the targets and whether met.
    Throughput is the best round of each path (the one least disturbed by other load)."""
    bulk_mb_s = {path: max(rates) for path, rates in bulk_rates.items()}
    stream_mb_s = {path: max(rates) for path, rates in stream_rates.items()}
    p50 = {path: percentile(values, 50) for path, values in samples.items()}
    p99 = {path: percentile(values, 99) for path, values in samples.items()}
    chunk_mb = args.chunks * args.chunk_size / 1e6
    mb_per_round = (args.bulk_mib // args.body_mib or 1) * args.body_mib * 1048576 / 1e6
    lat_cpu, bulk_cpu, stream_cpu = cpus
    figures: dict[str, Any] = {
        "latency_ms": {
            path: {"p50": round(p50[path], 4), "p99": round(p99[path], 4), "n": len(samples[path])}
            for path in PATHS
        },
        "added_by_layer_ms": {  # B - A: what the layer adds to the TCP proxy's path
            "p50": round(p50["stack"] - p50["toxiproxy"], 4),
            "p99": round(p99["stack"] - p99["toxiproxy"], 4),
            "layer_alone_vs_direct_p50": round(p50["layer"] - p50["direct"], 4),
        },
        "non_matching_rule": {  # stack_rule vs stack: one rule on the route, matching nothing
            "rule": NO_MATCH_RULE,
            "p50_ratio": round(p50["stack_rule"] / p50["stack"], 4),
            "p50_added_ms": round(p50["stack_rule"] - p50["stack"], 4),
            "p99_ratio": round(p99["stack_rule"] / p99["stack"], 4),
            "bulk_ratio": round(bulk_mb_s["stack_rule"] / bulk_mb_s["stack"], 4),
            "stream_ratio": round(stream_mb_s["stack_rule"] / stream_mb_s["stack"], 4),
            "rule_matched": routes["bench-rule"]["faults"][0]["matched"],
        },
        "bulk_mb_s": {path: round(bulk_mb_s[path], 1) for path in PATHS},
        "bulk_ratio": _ratios(bulk_mb_s),
        "bulk": {
            "body_mib": args.body_mib,
            "mb_per_round": round(mb_per_round, 1),
            "rounds_mb_s": {p: [round(r, 1) for r in rates] for p, rates in bulk_rates.items()},
        },
        "stream_mb_s": {path: round(stream_mb_s[path], 1) for path in PATHS},
        "stream_chunks_per_s": {
            path: round(stream_mb_s[path] / chunk_mb * args.chunks) for path in PATHS
        },
        "stream_ratio": _ratios(stream_mb_s),
        "stream": {
            "chunks": args.chunks,
            "chunk_bytes": args.chunk_size,
            "rounds_mb_s": {p: [round(r, 1) for r in rates] for p, rates in stream_rates.items()},
        },
        "cpu_us_per_request": lat_cpu.per(1e6),
        "cpu_ms_per_mb_bulk": bulk_cpu.per(1e3),
        "cpu_ms_per_mb_stream": stream_cpu.per(1e3),
        "journal_entries": {name: route["journal"] for name, route in routes.items()},
        "targets": TARGETS,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    figures["met"] = {
        "added_p50_ms": figures["added_by_layer_ms"]["p50"] <= TARGETS["added_p50_ms"],
        "bulk_ratio_stack_direct": figures["bulk_ratio"]["stack/direct"]
        >= TARGETS["bulk_ratio_stack_direct"],
        "stream_ratio_stack_direct": figures["stream_ratio"]["stack/direct"]
        >= TARGETS["stream_ratio_stack_direct"],
        "rule_p50_ratio": figures["non_matching_rule"]["p50_ratio"] <= TARGETS["rule_p50_ratio"],
    }
    return figures


def _ratios(mb_s: dict[str, float]) -> dict[str, float]:
    pairs = [
        ("stack", "direct"),
        ("toxiproxy", "direct"),
        ("layer", "direct"),
        ("stack", "toxiproxy"),
        ("stack_rule", "stack"),
    ]
    return {f"{a}/{b}": round(mb_s[a] / mb_s[b], 3) for a, b in pairs}


def table(figures: dict[str, Any]) -> None:
    """A short table of the figures."""
    lat, bulk, stream = figures["latency_ms"], figures["bulk_mb_s"], figures["stream_mb_s"]
    chunks, cpu = figures["stream_chunks_per_s"], figures["cpu_us_per_request"]
    print(
        f"{'path':<11}{'p50 ms':>9}{'p99 ms':>9}{'bulk MB/s':>11}{'stream MB/s':>13}"
        f"{'chunks/s':>10}{'layer µs/req':>14}{'toxi µs/req':>13}"
    )
    for path in PATHS:
        print(
            f"{path:<11}{lat[path]['p50']:>9.3f}{lat[path]['p99']:>9.3f}{bulk[path]:>11.0f}"
            f"{stream[path]:>13.1f}{chunks[path]:>10}{cpu[path].get('layer', 0):>14.0f}"
            f"{cpu[path].get('toxiproxy', 0):>13.0f}"
        )
    added, rule = figures["added_by_layer_ms"], figures["non_matching_rule"]
    print(
        f"layer adds (stack - toxiproxy): p50 {added['p50']:+.3f} ms, p99 {added['p99']:+.3f} ms"
        f" (target p50 <= {TARGETS['added_p50_ms']} ms)"
    )
    print("bulk ratio   " + ", ".join(f"{k} {v:.2f}" for k, v in figures["bulk_ratio"].items()))
    print("stream ratio " + ", ".join(f"{k} {v:.2f}" for k, v in figures["stream_ratio"].items()))
    print(
        f"non-matching rule: p50 x{rule['p50_ratio']:.3f} ({rule['p50_added_ms']:+.3f} ms),"
        f" p99 x{rule['p99_ratio']:.3f}, bulk x{rule['bulk_ratio']:.2f},"
        f" stream x{rule['stream_ratio']:.2f}; the rule matched {rule['rule_matched']}"
    )
    print(
        "targets met: "
        + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in figures["met"].items())
    )
    print(
        f"machine: {figures['cpus']} CPUs, load average {figures['load_average_1m_at_start']:.2f}"
        f" at the start, {figures['load_average_1m']:.2f} at the end"
    )


if __name__ == "__main__":
    sys.exit(main())
