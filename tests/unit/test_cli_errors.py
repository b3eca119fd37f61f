"""Every `harness` command through typer.testing, given bad input or no engine: one error line
naming the fix, exit status 1, and nothing started (the engine is unreachable throughout)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import _docker, cli
from tests.unit.test_reports_cli import COMMANDS

runner = CliRunner()

NO_ENGINE = "Docker engine unreachable"
NO_UP_STACK = "no stack started by `harness up`: run `harness up` first"

CASES = [
    (["up", "--services", "kafka"], "unknown service 'kafka'; known services: redis"),
    (["down"], NO_ENGINE),
    (["down", "--all"], NO_ENGINE),
    (["status"], NO_UP_STACK),
    (["logs", "kafka"], "unknown service 'kafka'"),
    (["logs", "redis"], NO_UP_STACK),
    (["images", "list"], NO_ENGINE),
    (["images", "build"], NO_ENGINE),
    (["images", "build", "kafka"], "unknown image 'kafka'; known: base, python, redis"),
    (["images", "build-app", "x:local", "--source", "nope", "-r", "httpx"], "no such source: nope"),
    (["engine", "ensure"], "the Docker engine does not answer: start it"),
    (["doctor"], "no engine answers at unix://"),  # its own format: `fail  engine: …`
    (["fault", "add", "latency", "redis", "--ms", "5"], NO_UP_STACK),
    (["fault", "loss", "redis", "20%"], NO_UP_STACK),
    (["fault", "rate-limit", "redis", "100"], NO_UP_STACK),
    (["fault", "partition", "redis", "chromadb"], NO_UP_STACK),
    (["fault", "delay", "redis", "50"], NO_UP_STACK),
    (["fault", "container", "explode", "redis"], "unknown container fault 'explode'; known: stop"),
    (["fault", "add", "litellm", "http", "--status", "429", "--times", "2"], NO_UP_STACK),
    (["fault", "add", "redis", "http", "--status", "500"], "redis does not speak HTTP: use a TCP"),
    (["fault", "add", "kafka", "http", "--status", "500"], "unknown service 'kafka'; known"),
    (["fault", "add", "litellm", "http", "--status", "700"], "status must be 100..599, got 700"),
    (
        ["fault", "add", "litellm", "http", "--status", "500", "--path-regex", "("],
        "path_regex '(' is not a regex",
    ),
    (
        ["fault", "add", "litellm", "http", "--status", "500", "--probability", "1.5"],
        "probability must be within 0..1, got 1.5",
    ),
    (["fault", "add", "litellm", "http", "--path", "/x"], "an HTTP fault on litellm needs one of"),
    (["fault", "add", "litellm", "http", "--status", "500", "--hang"], "one action per HTTP fault"),
    (
        ["fault", "add", "litellm", "http", "--header", "nocolon", "--status", "500"],
        "--header takes 'Name: value', got 'nocolon'",
    ),
    (["fault", "add", "earthquake", "redis"], "unknown fault 'earthquake'; known: latency"),
    (["fault", "list"], NO_UP_STACK),
    (["fault", "clear"], NO_UP_STACK),
    (["scenario", "run", "missing.yaml"], "cannot read scenario missing.yaml"),
    (["report", "hx-nothing"], "no report for run hx-nothing"),
    (["report", "show", "hx-nothing"], "no report for run hx-nothing"),
    (["report", "merge", "nowhere", "--out", "merged"], "nowhere: no report.json in it or in"),
    (["durations", "update", "nowhere"], "nowhere: no report.json in it or in"),
    (["init", "--shards", "0"], "--shards 0: give 1 (no sharding) or more"),
    (["init", "--backends", "redis,mongo"], "unknown backend 'mongo'; known: redis, chromadb"),
    (["blender", "run", "no-addon"], "add-on path no-addon does not exist"),
    (["blender", "show", "no-addon"], "add-on path no-addon does not exist"),
    (["blender", "shell", "no-addon"], "add-on path no-addon does not exist"),
]


@pytest.fixture(autouse=True)
def _fresh_engine_client() -> Iterator[None]:
    """The Docker client is cached per process: make the command create one from `env`."""
    _docker.client.cache_clear()
    yield
    _docker.client.cache_clear()


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(args) for args, _ in CASES])
def test_bad_input_is_one_line_and_exit_1(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # relative paths (scenario file, reports/) resolve to nothing
    monkeypatch.delenv("HARNESS_PROJECT_ROOT", raising=False)
    (tmp_path / "harness.toml").write_text("")  # an adopting project with every default
    env = {
        "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock",
        "HARNESS_STATE_DIR": str(tmp_path),
        "HARNESS_REPORTS_DIR": str(tmp_path / "reports"),
    }
    result = runner.invoke(cli.app, args, env=env, terminal_width=400)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(("error: ", "fail  ")), result.output
    assert message in lines[0]


def test_every_command_has_a_bad_input_case() -> None:
    leaves = [p for p in COMMANDS if p and not any(q[: len(p)] == p and q != p for q in COMMANDS)]
    missing = [p for p in leaves if not any(tuple(args[: len(p)]) == p for args, _ in CASES)]
    assert not missing


@pytest.mark.parametrize("args", [["up"], ["init", "--backends", "mongo"]])
def test_without_a_project_configuration_up_names_harness_init(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HARNESS_PROJECT_ROOT", raising=False)
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock", "HARNESS_STATE_DIR": str(tmp_path)}
    result = runner.invoke(cli.app, args, env=env, terminal_width=400)
    assert result.exit_code == 1, result.output
    (line,) = result.output.strip().splitlines()
    if args == ["up"]:
        assert line == (
            f"error: no mediastack-harness configuration in {tmp_path.resolve()} or above: run "
            "`harness init` (it writes [tool.mediastack-harness] into pyproject.toml and a "
            "compose overlay)"
        )
    else:
        assert line.startswith("error: unknown backend 'mongo'; known: redis")
    assert sorted(path.name for path in tmp_path.iterdir()) == []  # nothing written
