"""The package used as an outside project uses it: a wheel built from this checkout, installed in
a venv outside the tree, `harness init` in an empty git repository, the project's own services
(a host process, a container) and its own PostgreSQL backend, then `pytest -n 2` there."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from harness import _labels, _paths, reaper
from harness.stack import new_project_name

pytestmark = [pytest.mark.xdist_group("inner-runs"), pytest.mark.timeout(1200)]

ADOPTER = Path(__file__).with_name("adopter_project")
CHECKOUT = _paths.PACKAGE_DIR.parent


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, (
        f"{' '.join(command)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


def _outside_env() -> dict[str, str]:
    """This environment without what ties a process to this checkout or this pytest run (a
    PYTHONPATH on the checkout makes pip in the outside venv see the harness as installed)."""
    tied = ("PYTEST_", "HARNESS_", "PYTHONPATH", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if not k.startswith(tied)}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv outside the checkout with the wheel built from it (and the project's own client)."""
    root = tmp_path_factory.mktemp("adopter-venv")
    env = _outside_env()
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(root / "dist"),
            str(CHECKOUT),
        ],
        root,
        env,
        300,
    )
    shutil.rmtree(CHECKOUT / "build", ignore_errors=True)
    (wheel,) = (root / "dist").glob("mediastack_harness-*.whl")
    _run([sys.executable, "-m", "venv", str(root / "venv")], root, env, 120)
    _run(
        # the project's own test dependencies beside the harness: its service's client, tenacity
        [str(root / "venv" / "bin" / "pip"), "install", "-q", str(wheel), "pg8000", "tenacity"],
        root,
        env,
        900,
    )
    return root / "venv"


def _built_services(run: str) -> set[str]:
    images = docker.from_env().images.list(filters={"label": f"{_labels.PROJECT}={run}"})
    return {(image.labels or {}).get(_labels.SERVICE, "?") for image in images}


def _adopting_repository(directory: Path, venv: Path, env: dict[str, str]) -> str:
    _run(["git", "init", "-q"], directory, env, 30)
    scaffolded = _run(
        [str(venv / "bin" / "harness"), "init", "--backends", "redis"], directory, env, 60
    )
    again = _run([str(venv / "bin" / "harness"), "init", "--backends", "redis"], directory, env, 60)
    assert "unchanged" in again and "wrote" not in again
    for source in ADOPTER.rglob("*"):
        if source.is_file() and source.name not in ("services.toml", "README.md"):
            target = (
                directory
                / (
                    "tests/integration"
                    if source.suffix == ".py" and source.parent == ADOPTER
                    else ""
                )
                / source.relative_to(ADOPTER)
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    services = (
        (ADOPTER / "services.toml").read_text().replace("{python}", str(venv / "bin" / "python"))
    )
    with (directory / "harness.toml").open("a") as config:
        config.write(services)
    return scaffolded


@pytest.fixture
def inner_run() -> Iterator[tuple[str, str]]:
    """The inner run's xdist uid and the run id it gives; at teardown, the images compose built
    for that temporary project are removed (and none is left)."""
    uid = secrets.token_hex(8)
    run = new_project_name(uid)
    yield uid, run
    reaper.remove_built_images(run)
    assert reaper.built_images(run) == [], f"images of {run} left after removal"


def test_an_outside_project_adopts_the_installed_package(
    installed: Path, tmp_path: Path, inner_run: tuple[str, str]
) -> None:
    uid, run_id = inner_run
    env = _outside_env()
    env["PATH"] = f"{installed / 'bin'}:{env['PATH']}"
    repository = tmp_path / "vod-archive"
    repository.mkdir()

    scaffolded = _adopting_repository(repository, installed, env)
    for written in (
        "harness.toml: wrote",
        "harness.compose.yaml: wrote",
        "Makefile: wrote",
        "tests/integration/test_harness_redis.py: wrote",
        ".github/workflows/integration.yml: wrote",
    ):
        assert written in scaffolded

    done = subprocess.run(
        [
            str(installed / "bin" / "pytest"),
            "-n",
            "2",
            "-p",
            "no:cacheprovider",
            "--testrunuid",
            uid,
            "-rA",
            "tests/integration",
        ],
        cwd=repository,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert re.search(r"\b6 passed\b", output), output[-3000:]
    for test in (
        "test_the_process_service_counts_in_redis",
        "test_a_tcp_fault_on_its_backend_slows_the_service",
        "test_its_client_survives_a_container_kill_of_the_service",
        "test_a_killed_process_comes_back",
        "test_the_postgres_proxy_carries_a_fault",
        "test_redis_answers",
    ):
        assert re.search(rf"PASSED tests/integration/\S+::{test}\b", output), test
    run = re.search(r"mediastack-harness: run (hx-\w+)", output)
    assert run and run[1] == run_id, output[-3000:]
    assert reaper.leftovers(run_id) == {}
    assert {"web", "postgres"} <= _built_services(run_id)  # what the teardown removes
    counter = f"{installed / 'bin' / 'python'} svc/app.py"
    alive = subprocess.run(["pgrep", "-f", counter], capture_output=True)
    assert alive.returncode == 1, f"a process of the project survived: {alive.stdout!r}"
    assert (repository / "reports" / run[1] / "report.json").is_file()
