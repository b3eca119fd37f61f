"""Shared fixtures: start any mock (`python -m harness.mocks.<name>`) as a subprocess, free port.

Usage::

    def test_x(mock_server):
        base = mock_server("comfyui", "--step-seconds", "0")   # -> "http://127.0.0.1:PORT"

`mock_server` (function scope), `mock_server_module` and `mock_server_session` are the same
factory with different lifetimes; every process is terminated when its scope ends. Keyword
arguments: `env={...}` (extra environment), `ready_path="/__harness/health"`, `timeout=30.0`.
The `namespace` fixture gives a unique `X-Harness-Namespace` value per test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from harness import wait_for
from harness.mocks import NAMESPACE_HEADER

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MockProcesses:
    """Starts mock subprocesses, waits for readiness, and terminates them on close()."""

    def __init__(self) -> None:
        self._procs: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
        self._cache: dict[tuple[Any, ...], str] = {}

    def start(
        self,
        name: str,
        *args: str,
        env: dict[str, str] | None = None,
        ready_path: str = "/__harness/health",
        timeout: float = 30.0,
        reuse: bool = False,
    ) -> str:
        """Start `python -m harness.mocks.<name> --host 127.0.0.1 --port P *args`; its base URL."""
        key = (name, args, tuple(sorted((env or {}).items())), ready_path)
        if reuse and key in self._cache:
            return self._cache[key]
        last_error = ""
        for _attempt in range(3):  # retry if the picked port was taken in the meantime
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            log: IO[bytes] = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in close()
                prefix=f"mock-{name}-", suffix=".log", delete=False
            )
            full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
            full_env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(ROOT), full_env.get("PYTHONPATH", "")) if p
            )
            cmd = [sys.executable, "-m", f"harness.mocks.{name}", "--host", "127.0.0.1"]
            cmd += ["--port", str(port), *args]
            proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=log, stderr=log)
            self._procs.append((proc, log))
            if self._wait_ready(proc, base + ready_path, timeout):
                if reuse:
                    self._cache[key] = base
                return base
            last_error = Path(log.name).read_text(errors="replace")[-4000:]
            self._stop(proc)
            if "address already in use" not in last_error.lower():
                break
        raise RuntimeError(f"mock {name!r} did not become ready:\n{last_error}")

    @staticmethod
    def _wait_ready(proc: subprocess.Popen[bytes], url: str, timeout: float) -> bool:
        """Whether `url` answered 200 before the deadline (False: the process ended first)."""

        def settled() -> str | None:
            if proc.poll() is not None:
                return "ended"
            try:
                return "ready" if httpx.get(url, timeout=1.0).status_code == 200 else None
            except httpx.HTTPError:
                return None

        try:
            return wait_for(settled, timeout, f"{url} to answer", interval=0.05) == "ready"
        except AssertionError:
            return False

    @staticmethod
    def _stop(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def close(self) -> None:
        """Terminate every started process and remove its log file."""
        for proc, log in self._procs:
            self._stop(proc)
            log.close()
            Path(log.name).unlink(missing_ok=True)
        self._procs.clear()
        self._cache.clear()


def _factory(procs: MockProcesses) -> Callable[..., str]:
    def start(name: str, *args: str, **kwargs: Any) -> str:
        return procs.start(name, *args, **kwargs)

    return start


@pytest.fixture
def mock_server() -> Iterator[Callable[..., str]]:
    """Factory `mock_server(name, *args, env=None) -> base_url`; processes die after the test."""
    procs = MockProcesses()
    try:
        yield _factory(procs)
    finally:
        procs.close()


@pytest.fixture(scope="module")
def mock_server_module() -> Iterator[Callable[..., str]]:
    """Like `mock_server`, but processes live for the test module; identical calls are reused."""
    procs = MockProcesses()
    try:
        yield lambda name, *args, **kw: procs.start(name, *args, reuse=True, **kw)
    finally:
        procs.close()


@pytest.fixture(scope="session")
def mock_server_session() -> Iterator[Callable[..., str]]:
    """Like `mock_server`, but processes live for the session; identical calls are reused."""
    procs = MockProcesses()
    try:
        yield lambda name, *args, **kw: procs.start(name, *args, reuse=True, **kw)
    finally:
        procs.close()


@pytest.fixture
def namespace() -> str:
    """A unique harness namespace for this test (send it as the X-Harness-Namespace header)."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def cablecast_base(mock_server_module: Callable[..., str]) -> str:
    """A Cablecast mock with a fast VOD lifecycle: 0.1 s steps, 3 processing steps."""
    return mock_server_module("cablecast", "--step-seconds", "0.1", "--processing-steps", "3")


@pytest.fixture
def cablecast_api(cablecast_base: str, namespace: str) -> Iterator[httpx.Client]:
    """An authenticated client of `cablecast_base`'s API in the test's own namespace."""
    with httpx.Client(
        base_url=cablecast_base + "/cablecastapi/v1",
        headers={"X-Harness-Namespace": namespace},
        auth=("admin", "admin"),
        timeout=10,
    ) as client:
        yield client


@pytest.fixture(scope="module")
def comfyui_base(mock_server_module: Callable[..., str]) -> str:
    """A ComfyUI mock whose sampler steps take no time."""
    return mock_server_module("comfyui", "--step-seconds", "0")


@pytest.fixture
def comfyui_api(comfyui_base: str, namespace: str) -> Iterator[httpx.Client]:
    """A client of `comfyui_base` in the test's own namespace."""
    with httpx.Client(
        base_url=comfyui_base, headers={NAMESPACE_HEADER: namespace}, timeout=30
    ) as client:
        yield client
