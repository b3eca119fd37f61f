"""The real `harness up → status → fault → report → down` round trip, as a person runs it.

Its own project (HARNESS_UP_PROJECT) and state directory, so it never meets the `make up` stack.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness import _paths
from harness import _reaper as reaper

pytestmark = pytest.mark.xdist_group("inner-runs")

HARNESS = str(Path(sys.executable).parent / "harness")
INNER = """
def test_uses_the_up_stack(redis_client):
    redis_client.set("episode", "draft")
    assert redis_client.get("episode") == b"draft"
"""

PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[tuple[Run, str, dict[str, str]]]:
    """A `harness` runner on a private project; the project is always downed at the end."""
    project = f"hx-rt{secrets.token_hex(3)}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "HARNESS_RUN", "HARNESS_OWNER", "GITHUB_STEP_SUMMARY"))
    }
    env.update(
        HARNESS_UP_PROJECT=project,
        HARNESS_STATE_DIR=str(tmp_path / "state"),
        HARNESS_REPORTS_DIR=str(tmp_path / "reports"),
        HARNESS_PROJECT_ROOT=str(_paths.project_root()),
        COLUMNS="250",
    )

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [HARNESS, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=timeout
        )

    try:
        yield run, project, env
    finally:
        run("down")
        assert reaper.leftovers(project) == {}


def _row(output: str, service: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith(f"│ {service} ")]
    return line


def test_up_status_fault_report_down(cli, tmp_path: Path) -> None:
    run, project, env = cli
    started = run("up", "--services", "redis")
    assert started.returncode == 0, started.stderr
    assert f"stack {project}" in started.stdout

    status = run("status")
    assert status.returncode == 0, status.stderr
    redis = _row(status.stdout, "redis")
    assert "healthy" in redis and "127.0.0.1:" in redis
    assert "redis 127.0.0.1:" in redis  # its default proxy and where it listens
    assert redis.rstrip("│ ").endswith("-")  # no active fault yet

    added = run("fault", "add", "latency", "redis", "--ms", "150")
    assert added.returncode == 0 and "added" in added.stdout, added.stderr
    faulty = _row(run("status").stdout, "redis")
    assert "tcp: redis latency downstream" in faulty and "'latency': 150" in faulty

    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "test_inner.py").write_text(INNER)
    tests = subprocess.run(
        [
            *PYTEST,
            "--rootdir",
            str(inner),
            "test_inner.py",
            "--stack-services",
            "redis",
            "--attach-stack",
        ],
        cwd=inner,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr

    shown = run("report")
    assert shown.returncode == 0, shown.stderr
    assert "test_inner.py::test_uses_the_up_stack" in shown.stdout and "1 passed" in shown.stdout
    assert "│ redis " in shown.stdout  # its latency row
    (html,) = (tmp_path / "reports").glob("*/report.html")
    assert f"HTML: {html.resolve()}" in shown.stdout
    sampled = json.loads((html.parent / "report.json").read_text())["resources"]
    assert {f"{project}-redis-1", f"{project}-toxiproxy-1"} <= set(sampled)  # the attached stack

    # the workflow's always() steps, run as GitHub runs them (make, with a step summary file)
    step_summary = tmp_path / "step-summary.md"

    def make(target: str, reports: Path) -> subprocess.CompletedProcess[str]:
        call = ["make", "-s", "-C", str(_paths.project_root()), target, f"REPORTS_DIR={reports}"]
        ci_env = {**env, "GITHUB_STEP_SUMMARY": str(step_summary)}
        return subprocess.run(call, env=ci_env, capture_output=True, text=True, timeout=120)

    assert make("ci-summary", tmp_path / "reports").returncode == 0
    assert not step_summary.exists()  # the run wrote its own summary
    assert make("ci-summary", tmp_path / "no-reports").returncode == 0
    assert "the run ended before pytest wrote one" in step_summary.read_text()
    logs = make("ci-logs", tmp_path / "reports")
    assert logs.returncode == 0, logs.stderr
    dumped = tmp_path / "reports" / "ci-logs"
    assert f"{project}-redis-1" in (dumped / "containers.txt").read_text()
    assert "Ready to accept connections" in (dumped / f"{project}-redis-1.log").read_text()

    cleared = run("fault", "clear")
    assert cleared.returncode == 0, cleared.stderr
    assert _row(run("status").stdout, "redis").rstrip("│ ").endswith("-")

    down = run("down")
    assert down.returncode == 0 and f"removed {project}" in down.stdout
    gone = run("status")
    assert gone.returncode == 1
    assert gone.stderr.strip() == "error: no stack started by `harness up`: run `harness up` first"
    final = make("ci-down", tmp_path / "reports")  # the workflow's last step: nothing left to do
    assert final.returncode == 0 and f"removed {project}" in final.stdout, final.stderr


TWO_BACKENDS = """\
[tool.mediastack-harness]
backends = ["redis"]
compose-files = ["harness.compose.yaml"]
[tool.mediastack-harness.extra-backends.sessions]
port = 6379
"""
SESSIONS = """\
services:
  sessions:
    image: ${HARNESS_REDIS_IMAGE:-redis:7.0.15-bookworm}
    entrypoint: ["redis-server"]
    healthcheck: {test: ["CMD", "redis-cli", "ping"], interval: 1s, retries: 60}
"""


def test_status_shows_the_projects_own_backends_and_the_rest_on_all(tmp_path: Path) -> None:
    """A project of two backends (a built-in, one of its own): `status` lists the proxy and those
    two, not every backend the harness knows as `missing` (issue 25); `--all` lists them all."""
    (tmp_path / "pyproject.toml").write_text(TWO_BACKENDS)
    (tmp_path / "harness.compose.yaml").write_text(SESSIONS)
    project = f"hx-st{secrets.token_hex(3)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HARNESS_"))}
    env.update(
        HARNESS_UP_PROJECT=project,
        HARNESS_STATE_DIR=str(tmp_path / "state"),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        COLUMNS="250",
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "harness.cli", *args]
        return subprocess.run(
            command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
        )

    def rows(output: str) -> list[str]:
        cells = [line.split("│")[1].strip() for line in output.splitlines() if line[:1] == "│"]
        return [cell for cell in cells if cell]  # not a cell's second line

    try:
        started = run("up")
        assert started.returncode == 0, started.stderr
        assert rows(started.stdout) == ["toxiproxy", "httpfaults", "redis", "sessions"]
        status = run("status")
        assert status.returncode == 0, status.stderr
        assert rows(status.stdout) == ["toxiproxy", "httpfaults", "redis", "sessions"]
        assert all("healthy" in _row(status.stdout, name) for name in ("redis", "sessions"))
        everything = run("status", "--all")
        assert everything.returncode == 0, everything.stderr
        shown = rows(everything.stdout)
        assert shown[:4] == ["toxiproxy", "httpfaults", "redis", "chromadb"] and "sessions" in shown
        assert "prometheus" in shown and "missing" in _row(everything.stdout, "cablecast")
    finally:
        run("down")
        assert reaper.leftovers(project) == {}
