"""A project's service under test that fails: one line naming what happened, exit 1, nothing left
running (its process, the backends, the proxies)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from harness import reaper

pytestmark = pytest.mark.xdist_group("inner-runs")

HARNESS = str(Path(sys.executable).parent / "harness")


def _up(tmp_path: Path, service: str) -> tuple[subprocess.CompletedProcess[str], str]:
    (tmp_path / "harness.toml").write_text(
        f'backends = ["redis"]\nhealth-timeout = 8\n\n[services.api]\n{service}'
    )
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
        'command = ["{python}", "-m", "http.server", "{port}", "--bind", "127.0.0.1"]\n'
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
