"""A project's service under test that fails: one line naming what happened, exit 1, nothing left
running (its process, the backends, the proxies)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import _docker, _labels
from harness import _reaper as reaper

pytestmark = pytest.mark.xdist_group("inner-runs")

HARNESS = str(Path(sys.executable).parent / "harness")


def _up(tmp_path: Path, service: str) -> tuple[subprocess.CompletedProcess[str], str]:
    (tmp_path / "harness.toml").write_text(
        f'backends = ["redis"]\nhealth-timeout = 8\n\n[services.api]\n{service}'
    )
    return _harness_up(tmp_path)


def _harness_up(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    """`harness up` in the project at `tmp_path`, as a run of its own."""
    project = f"hx-sut{secrets.token_hex(3)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HARNESS_"))}
    env.update(HARNESS_UP_PROJECT=project, HARNESS_STATE_DIR=str(tmp_path / "state"))
    done = subprocess.run(
        [HARNESS, "up"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    return done, project


def _process_gone(tmp_path: Path, project: str) -> bool:
    record = json.loads((tmp_path / "state" / "runs" / project / "api.process.json").read_text())
    return not Path(f"/proc/{record['pid']}").exists()


def test_a_process_that_exits_at_start_gives_its_code_and_output(tmp_path: Path) -> None:
    service = (
        'command = ["{python}", "-c", "import sys; print(\'API_KEY is not set\'); sys.exit(3)"]\n'
        'health = "/health"\n'
    )
    done, project = _up(tmp_path, service)
    assert done.returncode == 1, done.stdout + done.stderr
    first, *rest = done.stderr.strip().splitlines()
    assert first == "error: service api exited with code 3 at start"
    assert "API_KEY is not set" in "\n".join(rest)
    assert "Traceback" not in done.stderr
    assert reaper.leftovers(project) == {}


def test_a_service_that_never_turns_healthy_gives_its_state_and_last_log_lines(
    tmp_path: Path,
) -> None:
    service = (
        'command = ["{python}", "-m", "http.server", "{port}", "--bind", "{host}"]\n'
        'health = "/ready"\n'
    )
    done, project = _up(tmp_path, service)
    assert done.returncode == 1, done.stdout + done.stderr
    first, *rest = done.stderr.strip().splitlines()
    assert first == (
        "error: service api not healthy after 8 s (GET /ready answered 404; raise health-timeout)"
    )
    assert '"GET /ready HTTP/1.1" 404' in "\n".join(rest)  # its own log lines
    assert reaper.leftovers(project) == {}
    assert _process_gone(tmp_path, project)


def _up_container(tmp_path: Path, check: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """`harness up` of a container service under test (the adopter project's `web`) whose
    healthcheck is `check`, which Docker itself would first run a minute after the start."""
    shutil.copytree(Path(__file__).parent / "adopter_project" / "web", tmp_path / "web")
    (tmp_path / "harness.compose.yaml").write_text(
        "services:\n  web:\n    build: ./web\n    healthcheck:\n"
        f"      test: {check}\n      interval: 60s\n      retries: 3\n"
    )
    (tmp_path / "harness.toml").write_text(
        'backends = ["redis"]\nhealth-timeout = 8\ncompose-files = ["harness.compose.yaml"]\n\n'
        '[services.web]\nenv = { WEB_PORT = "{port}" }\n'
    )
    return _harness_up(tmp_path)


def _health(project: str, service: str) -> str:
    (container,) = _docker.client().containers.list(
        all=True,
        filters={"label": [f"{_labels.PROJECT}={project}", f"{_labels.SERVICE}={service}"]},
    )
    return str(container.attrs["State"]["Health"]["Status"])


def test_a_container_is_up_once_its_own_healthcheck_passes(tmp_path: Path) -> None:
    check = '["CMD", "python", "-c", "import os, urllib.request as u; u.urlopen(\'http://127.0.0.1:\' + os.environ[\'WEB_PORT\'])"]'  # noqa: E501
    done, project = _up_container(tmp_path, check)
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        # the harness ran the check itself: Docker has not yet (its first run is at 60 s)
        assert _health(project, "web") == "starting"
    finally:
        reaper.remove_run(project)
        reaper.remove_built_images(project)
    assert reaper.leftovers(project) == {}


def test_a_container_whose_own_healthcheck_fails_gives_its_state(tmp_path: Path) -> None:
    done, project = _up_container(tmp_path, '["CMD", "false"]')
    try:
        assert done.returncode == 1, done.stdout + done.stderr
        first = done.stderr.strip().splitlines()[0]
        assert first == (
            "error: service(s) web (starting) not healthy after 8 s "
            "(raise it with --health-timeout)"
        )
        assert reaper.leftovers(project) == {}
    finally:
        reaper.remove_built_images(project)
