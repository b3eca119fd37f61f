"""Errors that need no engine: one line, non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import _docker
from harness._errors import ComposeMissing


def _harness(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


def test_unreachable_docker_says_how_to_start_it(tmp_path: Path) -> None:
    result = _harness("images", "list", DOCKER_HOST=f"unix://{tmp_path}/no.sock")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Docker engine unreachable" in lines[0] and "make setup" in lines[0]


def test_missing_compose_plugin_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ComposeMissing, match="Compose v2 is missing"):
        _docker.compose_cli()


def test_unknown_service_option_fails_before_any_docker_call(tmp_path: Path) -> None:
    result = _harness("up", "--services", "kafka", DOCKER_HOST=f"unix://{tmp_path}/no.sock")
    assert result.returncode == 1
    assert "unknown service 'kafka'" in result.stderr


def test_every_command_has_help() -> None:
    for command in (
        ["up"],
        ["down"],
        ["status"],
        ["logs"],
        ["images", "build"],
        ["images", "list"],
        ["engine", "ensure"],
    ):
        result = _harness(*command, "--help")
        assert result.returncode == 0, command
        assert "Usage" in result.stdout


def test_pytest_without_a_project_configuration_names_harness_init(tmp_path: Path) -> None:
    (tmp_path / "test_queue.py").write_text(
        "def test_queue(redis_client):\n    assert redis_client.ping()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HARNESS_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-p", "no:xdist"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    expected = (
        f"no mediastack-harness configuration in {tmp_path.resolve()} or above: run `harness init`"
    )
    lines = [line for line in result.stdout.splitlines() if expected in line]
    assert lines and lines[0].startswith(expected), result.stdout  # the error, as one line
    assert "Traceback" not in result.stdout and "1 error" in result.stdout


def test_without_an_engine_each_test_errors_in_one_line_and_the_summary_stays(
    tmp_path: Path,
) -> None:
    (tmp_path / "harness.toml").write_text('backends = ["redis"]\n')
    (tmp_path / "test_queue.py").write_text(
        "def test_queue(redis_client):\n    assert redis_client.ping()\n\n"
        "def test_stream(redis_client):\n    assert redis_client.ping()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HARNESS_"))}
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no.sock"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output and "During handling" not in output, output
    assert output.rstrip().splitlines()[-1].startswith("2 errors in "), output
    unreachable = [line for line in output.splitlines() if "Docker engine unreachable" in line]
    assert len(unreachable) >= 3, output  # each test's error, and the teardown's, one line each
    assert any(line.startswith("mediastack-harness: teardown: ") for line in unreachable)
