"""The reference system under test, started per xdist worker against this worker's proxies."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from harness.plugin import LITELLM_MASTER_KEY, WorkerBackends
from harness.stack import Address, Stack
from tests.integration.conftest import wait_for


@dataclass
class Studio:
    """A running studio process and the proxy clients reach it through."""

    url: str
    direct: Address
    proxy: str  # Toxiproxy proxy name in front of the studio (for faults on the client side)
    namespace: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _running_studio(
    stack: Stack, backends: WorkerBackends, namespace: str, database: int, workers: int, tmp: Path
) -> Iterator[Studio]:
    port = _free_port()
    env = {
        **os.environ,
        "STUDIO_REDIS_URL": f"redis://{backends.address('redis')}/{database}",
        "STUDIO_REDIS_PREFIX": namespace,
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
        "STUDIO_RETRY_BACKOFF": "0.05",
    }
    log = open(tmp / "studio.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.studio", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    direct = Address("127.0.0.1", port)
    name = f"studio--{namespace}-{workers}"
    try:
        wait_for(lambda: _answers(direct.url), 60, "the studio to answer")
        (proxy,) = stack.toxiproxy.populate(
            [{"name": name, "listen": "127.0.0.1:0", "upstream": str(direct), "enabled": True}]
        )
        yield Studio(f"http://127.0.0.1:{proxy.port}", direct, name, namespace)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def start_studio(
    stack: Stack, backends: WorkerBackends, harness_namespace: str, worker_id: str, tmp_path_factory
) -> Iterator[Callable[[str, int, int], Studio]]:
    """`start_studio(label, first_redis_db, workers)`: a studio for this worker's session."""
    index = int(worker_id[2:]) if worker_id.startswith("gw") else 0
    with ExitStack() as running:

        def start(label: str, first_db: int, workers: int) -> Studio:
            tmp = tmp_path_factory.mktemp(label)
            database = first_db + index % 15
            return running.enter_context(
                _running_studio(stack, backends, harness_namespace, database, workers, tmp)
            )

        yield start


@pytest.fixture(scope="session")
def studio(start_studio: Callable[[str, int, int], Studio]) -> Studio:
    """`examples/studio` (pipeline on), reaching backends via this worker's proxies."""
    return start_studio("studio", 33, 2)


@pytest.fixture(scope="session")
def studio_intake(start_studio: Callable[[str, int, int], Studio]) -> Studio:
    """The studio's API without pipeline workers: for numbering and idempotency under load."""
    return start_studio("studio-intake", 48, 0)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code in (200, 503)
    except httpx.HTTPError:
        return False
