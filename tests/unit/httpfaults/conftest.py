"""The layer (`python -m harness.mocks.httpfaults`) and a backend, each a process on a free
port; `route` is a fresh route from the layer to the backend."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from harness import wait_for
from tests.unit.mocks.conftest import ROOT, MockProcesses, free_port

_names = itertools.count(1)


@pytest.fixture(scope="module")
def layer() -> Iterator[str]:
    """The layer's control API."""
    processes = MockProcesses()
    try:
        yield processes.start("httpfaults", "--seed", "7", ready_path="/version")
    finally:
        processes.close()


@pytest.fixture(scope="module")
def backend() -> Iterator[str]:
    """The test backend (`_backend.py`) under uvicorn."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "uvicorn", "tests.unit.httpfaults._backend:app",
               "--port", str(port), "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return process.poll() is not None

    try:
        wait_for(up, 30, "the test backend", interval=0.05)
        assert process.poll() is None
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@dataclass
class Route:
    """A route through the layer: `url` is where clients go, `api` the route's control URL."""

    name: str
    url: str
    api: str

    def fault(self, **rule: object) -> dict[str, object]:
        response = httpx.post(f"{self.api}/faults", json=rule)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def journal(self, after: int = 0) -> list[dict[str, object]]:
        return list(httpx.get(f"{self.api}/journal", params={"after": after}).json())


@pytest.fixture
def route(layer: str, backend: str) -> Iterator[Route]:
    name = f"backend--t{next(_names)}"
    made = httpx.post(f"{layer}/routes", json={"name": name, "upstream": backend})
    assert made.status_code == 201, made.text
    yield Route(name, f"http://127.0.0.1:{made.json()['port']}", f"{layer}/routes/{name}")
    httpx.delete(f"{layer}/routes/{name}")
