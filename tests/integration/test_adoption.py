"""The package used as an outside project uses it: a wheel built from this checkout, installed in
a venv outside the tree, `harness init` in an empty git repository, the project's own services
(a host process, a container) and its own PostgreSQL backend, then `pytest -n 2` there."""

from __future__ import annotations

import json
import re
import secrets
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import yaml

from harness import _labels
from harness import _reaper as reaper
from harness._stack import new_project_name
from tests.integration._outside import installed_venv, outside_env, run

pytestmark = [pytest.mark.xdist_group("inner-runs"), pytest.mark.timeout(1200)]

ADOPTER = Path(__file__).with_name("adopter_project")
# What the project's own clients, given to harness.reports.observe, add to the report.
OWN_CLIENTS = {"archive-db": ["SELECT"], "counter-client": ["GET /visit"]}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv outside the checkout with the wheel built from it, the extra of the fixture its
    tests use (redis_client), and the project's own clients."""
    own = ("pg8000", "psycopg2-binary", "psycopg[binary]", "requests")
    return installed_venv(tmp_path_factory.mktemp("adopter-venv"), "[redis]", *own)


def _built_services(run: str) -> set[str]:
    images = docker.from_env().images.list(filters={"label": f"{_labels.PROJECT}={run}"})
    return {(image.labels or {}).get(_labels.SERVICE, "?") for image in images}


def _adopting_repository(directory: Path, venv: Path, env: dict[str, str]) -> str:
    run(["git", "init", "-q"], directory, env, 30)
    scaffolded = run(
        [str(venv / "bin" / "harness"), "init", "--backends", "redis"], directory, env, 60
    )
    again = run([str(venv / "bin" / "harness"), "init", "--backends", "redis"], directory, env, 60)
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
    env = outside_env()
    env["PATH"] = f"{installed / 'bin'}:{env['PATH']}"
    repository = tmp_path / "vod-archive"
    repository.mkdir()
    (repository / "Makefile").write_text("test:\n\tpython -m unittest\n")  # its own, no targets

    scaffolded = _adopting_repository(repository, installed, env)
    for written in (
        "harness.toml: wrote",
        "harness.compose.yaml: wrote",
        "Makefile: add these targets",
        "tests/integration/test_harness_redis.py: wrote",
        ".github/workflows/integration.yml: wrote",
        ".gitignore: wrote",
    ):
        assert written in scaffolded

    # The integration step of the workflow `init` wrote, as CI would run it (no make target).
    workflow = yaml.safe_load((repository / ".github/workflows/integration.yml").read_text())
    steps = workflow["jobs"]["integration"]["steps"]
    (step,) = [s for s in steps if s.get("name") == "Integration tests"]
    done = subprocess.run(
        [*shlex.split(step["run"]), "-p", "no:cacheprovider", "--testrunuid", uid, "-rA"],
        cwd=repository,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert re.search(r"\b7 passed\b", output), output[-3000:]
    for test in (
        "test_the_process_service_counts_in_redis",
        "test_a_tcp_fault_on_its_backend_slows_the_service",
        "test_its_client_survives_a_container_kill_of_the_service",
        "test_a_killed_process_comes_back",
        "test_the_postgres_proxy_carries_a_fault",
        "test_redis_answers",
        "test_its_own_clients_are_timed_into_the_report",
    ):
        assert re.search(rf"PASSED tests/integration/\S+::{test}\b", output), test
    started = re.search(r"mediastack-harness: run (hx-\w+)", output)
    assert started and started[1] == run_id, output[-3000:]
    assert reaper.leftovers(run_id) == {}
    assert {"web", "postgres"} <= _built_services(run_id)  # what the teardown removes
    counter = f"{installed / 'bin' / 'python'} svc/app.py"
    alive = subprocess.run(["pgrep", "-f", counter], capture_output=True)
    assert alive.returncode == 1, f"a process of the project survived: {alive.stdout!r}"
    report = json.loads((repository / "reports" / run_id / "report.json").read_text())
    own = {backend: sorted(report["latency"][backend]["operations"]) for backend in OWN_CLIENTS}
    assert own == OWN_CLIENTS, own
    assert report["latency"]["archive-db"]["operations"]["SELECT"]["without_faults"]["count"] == 2
    untracked = run(["git", "status", "--porcelain", "--untracked-files=all"], repository, env, 30)
    left = [line[3:] for line in untracked.splitlines()]
    assert not [path for path in left if path.startswith(("reports/", ".harness/"))], left
