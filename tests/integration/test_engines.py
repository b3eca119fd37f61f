"""The stack on the engines its users have, beyond the rootful one the rest of the suite runs on:
rootless Docker (a user's own dockerd behind RootlessKit), a remote engine (a dockerd in a
network namespace, reached from here only over a veth pair, its ports published on its private
address) and Podman 4 (Debian's, through its Docker API socket; on this VM with runc and
container rlimits it may set: _engines.PODMAN_CONF).

On each engine, with the images it needs given by `docker save | load`:
- a `harness init` project's sample test and the checks of engine_project/ (the address the
  engine published, a TCP fault on one worker's proxy, a container fault, a kernel fault or the
  one line why not) under `pytest -n 2`, nothing left on the engine afterwards;
- a run SIGKILLed with its stack up, whose leftovers the next run reaps.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness import _images as images
from harness import _labels
from harness import _topology as topology
from harness._stack import new_project_name
from harness._waiting import wait_for
from tests.integration import _engines
from tests.integration.conftest import InnerRun
from tests.integration.test_run_lifecycle import REDIS_ONLY, WAITING_BODY, _source

pytestmark = [pytest.mark.xdist_group("engines"), pytest.mark.timeout(900)]

CHECKS = Path(__file__).with_name("engine_project") / "test_on_this_engine.py"
# name -> (its kind, as `harness doctor` names it; where it publishes; the address clients get)
ENGINES = {
    "rootless": ("rootless Docker", "127.0.0.1", "127.0.0.1"),
    "remote": ("rootful Docker", _engines.REMOTE_IP, _engines.REMOTE_IP),
    "podman": ("Podman", "127.0.0.1", "127.0.0.1"),
}


@pytest.fixture(scope="module")
def engine_images(engines: dict[str, _engines.Engine]) -> dict[str, _engines.Engine]:
    """The engines, each given the images a Redis project and its faults need."""
    stack = topology.load()
    tags = (
        stack.get("redis").image,
        stack.proxy_image,
        images.HTTPFAULTS_TAG,
        images.NETFAULT_TAG,
        images.BASE_TAG,
    )
    for name in ENGINES:
        engine = engines[name]
        if not engine.error:
            loader = ["podman", "load"] if name == "podman" else None
            _engines.load_images(engine.docker_host, tags, loader)
    return engines


def _env(engine: _engines.Engine, name: str) -> dict[str, str]:
    kind, publish, expected = ENGINES[name]
    env = {
        k: v
        for k, v in engine.env.items()
        if not k.startswith(("PYTEST_", "HARNESS_RUN", "HARNESS_OWNER", "HARNESS_PROJECT"))
    }
    env |= {"HARNESS_PUBLISH_HOST": publish, "EXPECTED_HOST": expected, "ENGINE_KIND": kind}
    return env


def _labelled(engine: _engines.Engine, run: str) -> list[str]:
    """Containers, networks and volumes on that engine that carry the run's label (any run's,
    for "")."""
    found = []
    for kind in ("container", "network", "volume"):
        listing = ["ls", "-a"] if kind == "container" else ["ls"]
        done = subprocess.run(
            ["docker", kind, *listing, "-q", "--filter", f"label={_labels.RUN}{run and '='}{run}"],
            env=engine.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        found += [f"{kind} {line}" for line in done.stdout.split()]
    return found


def _ready(engines: dict[str, _engines.Engine], name: str) -> _engines.Engine:
    engine = engines[name]
    assert not engine.error, f"{name}: {engine.error}"
    return engine


@pytest.mark.parametrize("name", list(ENGINES))
def test_a_harness_init_project_runs_on_the_engine(
    name: str, engine_images: dict[str, _engines.Engine], tmp_path: Path
) -> None:
    engine = _ready(engine_images, name)
    env = _env(engine, name)
    harness = [sys.executable, "-m", "harness.cli"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    scaffolded = subprocess.run(
        [*harness, "init", "--backends", "redis"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert scaffolded.returncode == 0, scaffolded.stdout + scaffolded.stderr
    shutil.copy(CHECKS, tmp_path / "tests" / "integration" / CHECKS.name)
    uid = secrets.token_hex(8)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "-p",
            "no:cacheprovider",
            "-rA",
            "--testrunuid",
            uid,
            "tests/integration",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert re.search(r"\b6 passed\b", output), output[-3000:]
    assert _labelled(engine, new_project_name(uid)) == []


@pytest.mark.parametrize("name", list(ENGINES))
def test_a_killed_run_is_reaped_on_the_engine(
    name: str,
    engine_images: dict[str, _engines.Engine],
    inner_pytest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = _ready(engine_images, name)
    for key, value in _env(engine, name).items():
        if os.environ.get(key) != value:
            monkeypatch.setenv(key, value)
    killed: InnerRun = inner_pytest(_source(1, WAITING_BODY), "-n", "2", *REDIS_ONLY)
    project = killed.project()
    assert _labelled(engine, project), "the stack should be up on the engine while the test runs"
    killed.signal(signal.SIGKILL)
    killed.process.wait(timeout=30)
    assert _labelled(engine, project), "SIGKILL leaves the stack behind"

    code, output = inner_pytest(_source(1), *REDIS_ONLY).finish()
    assert code == 0, output
    wait_for(lambda: _labelled(engine, project) == [], 60, "the dead run's leftovers to go")


def test_a_remote_engine_publishing_on_its_loopback_is_refused_before_anything_starts(
    engine_images: dict[str, _engines.Engine], tmp_path: Path
) -> None:
    engine = _ready(engine_images, "remote")
    env = {k: v for k, v in _env(engine, "remote").items() if k != "HARNESS_PUBLISH_HOST"}
    (tmp_path / "harness.toml").write_text('backends = ["redis"]\n')
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "up"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: the engine runs on {_engines.REMOTE_IP}, and ports"), line
    assert "set HARNESS_PUBLISH_HOST" in line, line
    assert _labelled(engine, "") == []  # nothing was started
