"""Where the director's backends are: the harness stack (default), or `--director-mocks`:
the repository's ComfyUI and Wan2GP mocks started here on 127.0.0.1 (LiteLLM then absent)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--director-mocks",
        action="store_true",
        help="run against the ComfyUI and Wan2GP mocks started in-process (no Docker)",
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(
    name: str, procs: list[subprocess.Popen[bytes]], port: int | None = None
) -> SimpleNamespace:
    port = port or _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "GRADIO_ANALYTICS_ENABLED": "False"}
    cmd = [sys.executable, "-m", f"harness.mocks.{name}", "--host", "127.0.0.1"]
    procs.append(
        subprocess.Popen(
            [*cmd, "--port", str(port)],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/__harness/health", timeout=1):
                return SimpleNamespace(host="127.0.0.1", port=port)
        except OSError:
            time.sleep(0.1)  # polling interval of the readiness wait (deadline above)
    raise RuntimeError(f"mock {name} did not start")


@pytest.fixture(scope="session")
def director_mocks() -> Iterator[dict[str, Any]]:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        yield {
            "comfyui": _start("comfyui", procs),
            "wan2gp": _start("wan2gp", procs),
            "litellm": SimpleNamespace(host="127.0.0.1", port=_free_port()),  # nothing there
        }
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=15)


@pytest.fixture
def blender_endpoints(request: pytest.FixtureRequest) -> Mapping[str, Any]:
    if request.config.getoption("--director-mocks"):
        endpoints = dict(request.getfixturevalue("director_mocks"))
        if "restartable_comfyui" in request.fixturenames:
            endpoints["comfyui"] = request.getfixturevalue("restartable_comfyui").address
        return endpoints
    backends = request.getfixturevalue("backends")
    return {name: backends.address(name) for name in ("comfyui", "litellm", "wan2gp")}


@pytest.fixture
def live_services(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """The services this run can reach (all three on the stack)."""
    if request.config.getoption("--director-mocks"):
        return ("comfyui", "wan2gp")
    return ("comfyui", "litellm", "wan2gp")


class _Restartable:
    """The ComfyUI mock in its own process, to be killed and started again on its port."""

    def __init__(self, address: SimpleNamespace) -> None:
        self.address = address
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        _start("comfyui", self.procs, self.address.port)

    def kill(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait(timeout=15)
        self.procs.clear()


@pytest.fixture
def restartable_comfyui(request: pytest.FixtureRequest) -> Iterator[_Restartable]:
    """Only with --director-mocks (on the stack, the `faults` suite kills the container)."""
    if not request.config.getoption("--director-mocks"):
        pytest.fail("restartable_comfyui needs --director-mocks; on the stack use faults.kill")
    comfyui = _Restartable(SimpleNamespace(host="127.0.0.1", port=_free_port()))
    comfyui.start()
    yield comfyui
    comfyui.kill()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With --director-mocks there is no proxy to fault; on the stack no mock to kill."""
    local = config.getoption("--director-mocks")
    needs = "faults" if local else "restartable_comfyui"
    dropped = [item for item in items if needs in getattr(item, "fixturenames", ())]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]
