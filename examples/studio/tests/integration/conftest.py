"""The reference system under test, started per xdist worker against this worker's proxies.

`Studio` is the test's client for it: it speaks the studio's REST API the way a real client
does (retrying 5xx and dropped connections with the same Idempotency-Key) and reads its
health, metrics and progress events.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from harness import LITELLM_MASTER_KEY, Address, Stack, WorkerBackends, wait_for
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_fixed

from studio.demo import Sse, read_sse

TERMINAL = {"completed", "failed"}
BACKENDS = {"redis", "chromadb", "litellm", "comfyui", "wan2gp", "cablecast"}
CHARACTERS = [
    {"name": "Ada", "description": "brave pilot"},
    {"name": "Bo", "description": "loyal mechanic"},
]


class Unavailable(Exception):
    """The studio answered 5xx: a real client would try again."""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, Unavailable | httpx.TransportError)


@dataclass
class Studio:
    """A running studio process, reached through a Toxiproxy proxy of its own."""

    url: str
    direct: Address
    proxy: str  # Toxiproxy proxy name in front of the studio (for faults on the client side)
    namespace: str
    prefix: str  # its Redis key prefix
    log: Path  # its stdout and stderr

    def request(self, method: str, path: str, *, patience: float = 0, **kwargs: Any) -> Any:
        """JSON of a 2xx answer; with `patience` s, retry 5xx and dropped connections."""

        def once() -> Any:
            response = httpx.request(method, f"{self.url}{path}", timeout=30, **kwargs)
            if response.status_code >= 500:
                raise Unavailable(f"{method} {path}: {response.status_code} {response.text}")
            assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
            return response.json()

        if not patience:
            return once()
        retrying = Retrying(
            stop=stop_after_delay(patience),
            wait=wait_fixed(0.25),
            retry=retry_if_exception(_retryable),
            reraise=True,
        )
        return retrying(once)

    def project(self, name: str | None = None) -> str:
        """A new project's id."""
        body = {"name": name or f"p-{uuid.uuid4().hex[:6]}"}
        return str(self.request("POST", "/projects", json=body)["id"])

    def episode(
        self, project: str, key: str | None = None, patience: float = 0, title: str = "Pilot"
    ) -> dict[str, Any]:
        """Create an episode (an Idempotency-Key makes retries safe); the episode."""
        headers = {"Idempotency-Key": key} if key else {}
        body = {"title": title, "premise": "a pilot and a mechanic race a storm"}
        body["characters"] = CHARACTERS  # type: ignore[assignment]
        path = f"/projects/{project}/episodes"
        result: dict[str, Any] = self.request(
            "POST", path, json=body, headers=headers, patience=patience
        )
        return result

    def get_episode(self, episode: str, patience: float = 0) -> dict[str, Any]:
        """The episode as stored."""
        result: dict[str, Any] = self.request("GET", f"/episodes/{episode}", patience=patience)
        return result

    def episodes(self, project: str) -> list[dict[str, Any]]:
        """Every episode of a project."""
        return list(self.request("GET", f"/projects/{project}/episodes")["episodes"])

    def health(self) -> tuple[int, dict[str, str]]:
        """(HTTP status of /health, {dependency: "ok" | "error"})."""
        response = httpx.get(f"{self.url}/health", timeout=30)
        dependencies = response.json()["dependencies"]
        return response.status_code, {name: dep["status"] for name, dep in dependencies.items()}

    def healthy(self) -> bool:
        """Every dependency answers."""
        code, states = self.health()
        return code == 200 and set(states.values()) == {"ok"}

    def wait_terminal(self, episodes: list[str], timeout: float) -> list[dict[str, Any]]:
        """Wait until every episode is completed or failed; their final records."""
        deadline = time.monotonic() + timeout
        finals: dict[str, dict[str, Any]] = {}
        while len(finals) < len(episodes):
            for episode in episodes:
                if episode not in finals:
                    record = self.get_episode(episode, patience=max(deadline - time.monotonic(), 1))
                    if record["state"] in TERMINAL:
                        finals[episode] = record
            if len(finals) < len(episodes):
                assert time.monotonic() < deadline, (
                    f"episodes still running after {timeout:.0f} s: "
                    f"{sorted(set(episodes) - set(finals))}"
                )
                time.sleep(0.2)
        return [finals[episode] for episode in episodes]

    def follow(self, episode: str, timeout: float = 180) -> list[Sse]:
        """Every progress event of an episode, read over SSE until its terminal event."""

        async def read() -> list[Sse]:
            async with httpx.AsyncClient(base_url=self.url) as client:
                return await asyncio.wait_for(
                    read_sse(client, f"/episodes/{episode}/events"), timeout
                )

        return asyncio.run(read())

    def tool(self, message: dict[str, Any]) -> dict[str, Any]:
        """One call of the WebSocket tools endpoint, on its own connection; the answer."""

        async def call() -> dict[str, Any]:
            url = self.url.replace("http", "ws", 1) + "/ws/tools"
            async with websockets.connect(url, open_timeout=30) as ws:
                await ws.send(json.dumps(message))
                return dict(json.loads(await asyncio.wait_for(ws.recv(), 60)))

        return asyncio.run(call())

    def burst(self, path: str, count: int) -> list[int]:
        """Status codes of `count` concurrent GETs, each a client's first and only try."""

        async def run() -> list[int]:
            limits = httpx.Limits(max_connections=count)
            async with httpx.AsyncClient(base_url=self.url, limits=limits, timeout=30) as client:
                answers = await asyncio.gather(*(client.get(path) for _ in range(count)))
            return [answer.status_code for answer in answers]

        return asyncio.run(run())

    def backend_calls(self, backend: str, outcome: str) -> float:
        """studio_backend_calls_total for one backend and outcome, summed over operations."""
        text = httpx.get(f"{self.url}/metrics", timeout=30).text
        pattern = re.compile(
            rf'^studio_backend_calls_total\{{backend="{backend}",operation="[^"]*",'
            rf'outcome="{outcome}"\}} (\S+)$',
            re.MULTILINE,
        )
        return sum(float(value) for value in pattern.findall(text))


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def _running_studio(
    stack: Stack,
    backends: WorkerBackends,
    namespace: str,
    label: str,
    workers: int,
    tmp: Path,
) -> Iterator[Studio]:
    host = stack.process_host()  # where the stack's Toxiproxy and Prometheus reach it
    port = _free_port(host)
    env = {
        **os.environ,
        # database 0 (the redis_client fixture flushes 1..63); keys under namespace.label
        "STUDIO_REDIS_URL": f"redis://{backends.address('redis')}/0",
        "STUDIO_REDIS_PREFIX": f"{namespace}.{label}",
        "STUDIO_WORKERS": str(workers),
        "STUDIO_CHROMA_URL": backends.address("chromadb").url,
        "STUDIO_CHROMA_TENANT": namespace,
        "STUDIO_CHROMA_DATABASE": "studio",
        "STUDIO_LITELLM_URL": backends.address("litellm").url,
        "STUDIO_LITELLM_KEY": LITELLM_MASTER_KEY,
        "STUDIO_COMFYUI_URL": backends.address("comfyui").url,
        "STUDIO_WAN2GP_URL": backends.address("wan2gp").url,
        "STUDIO_CABLECAST_URL": backends.address("cablecast").url,
        "STUDIO_NAMESPACE": namespace,
        "STUDIO_MEDIA_DIR": str(tmp),
        # quick enough for tests: a dead worker's job is requeued within seconds
        "STUDIO_RETRY_BACKOFF": "0.05",
        "STUDIO_RETRY_ATTEMPTS": "3",
        "STUDIO_CALL_TIMEOUT": "3",
        "STUDIO_LEASE_SECONDS": "4",
        "STUDIO_OUTAGE_RETRY_INTERVAL": "0.5",
    }
    log = open(tmp / "studio.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "studio", "--host", host, "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    direct = Address(host, port)
    name = f"studio--{namespace}-{label}"
    try:
        wait_for(lambda: _answers(direct.url), 60, "the studio to answer")
        url = stack.expose(name, direct).url
        yield Studio(url, direct, name, namespace, env["STUDIO_REDIS_PREFIX"], tmp / "studio.log")
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)  # a clean shutdown: its workers hand their jobs back
        except subprocess.TimeoutExpired:
            process.kill()  # never left running; the error still fails the run
            process.wait(timeout=30)
            raise
        finally:
            log.close()


StartStudio = Callable[..., Studio]


@pytest.fixture(scope="session")
def start_studio(
    stack: Stack, backends: WorkerBackends, harness_namespace: str, tmp_path_factory
) -> Iterator[StartStudio]:
    """`start_studio(label, workers, namespace=None)`: a studio for this worker's session.

    By default it uses the worker's namespace: Chroma tenant, mock state and (with its label)
    its Redis key prefix, so studios of different workers never share data.
    """
    with ExitStack() as running:

        def start(label: str, workers: int, namespace: str | None = None) -> Studio:
            tmp = tmp_path_factory.mktemp(label)
            return running.enter_context(
                _running_studio(
                    stack, backends, namespace or harness_namespace, label, workers, tmp
                )
            )

        yield start


@pytest.fixture(scope="session")
def studio(start_studio: StartStudio) -> Studio:
    """`examples/studio` (pipeline on), reaching backends via this worker's proxies."""
    return start_studio("studio", 2)


@pytest.fixture(scope="session")
def studio_intake(start_studio: StartStudio) -> Studio:
    """The studio's API without pipeline workers: for numbering and idempotency under load."""
    return start_studio("intake", 0)


@pytest.fixture(scope="session")
def studio_fleet(start_studio: StartStudio) -> Studio:
    """A studio with 16 pipeline workers: for many users' episodes at once."""
    return start_studio("fleet", 16)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test's report carries the end of the log of each studio it used."""
    report = yield
    if report.failed:
        for fixture, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, Studio) and value.log.exists():
                tail = value.log.read_text(errors="replace").splitlines()[-200:]
                report.sections.append((f"studio log: {fixture}", "\n".join(tail)))
    return report


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code in (200, 503)
    except httpx.HTTPError:
        return False
