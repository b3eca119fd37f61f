"""Scenarios, isolation between workers, the CLI (HTTP faults: test_faults_http.py)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis

from harness import LITELLM_MASTER_KEY
from harness._stack import Stack
from harness.faults import Faults
from harness.faults.scenario import Scenario

pytestmark = pytest.mark.faults


def test_scenario_plays_steps_in_order_with_seeded_values(redis_client, faults: Faults) -> None:
    document = {
        "name": "slow redis, then clear",
        "seed": 3,
        "steps": [
            {"at": 0, "fault": "latency", "service": "redis", "ms": {"uniform": [80, 120]}},
            {"at": 1.0, "clear": "redis"},
        ],
    }
    plan = Scenario.parse(document)
    assert plan.steps[0][2]["ms"] == Scenario.parse(document).steps[0][2]["ms"]  # seeded
    seen: list[float] = []

    def sample(at: float, what: str) -> None:
        if what.startswith("latency"):
            seen.append(statistics.median(_pings(redis_client)))

    log = plan.run(faults, report=sample)
    assert [what.split()[0] for _, what in log] == ["latency", "clear"]
    assert log[1][0] >= 1.0
    assert seen and seen[0] >= 0.07
    assert statistics.median(_pings(redis_client)) < 0.05
    assert faults.leftovers() == []


def _pings(client: redis.Redis, count: int = 5) -> list[float]:
    client.ping()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        client.ping()
        samples.append(time.perf_counter() - start)
    return samples


def test_bad_scenario_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("steps:\n  - at: 0\n    fault: earthquake\n    service: redis\n")
    with pytest.raises(Exception, match="unknown fault 'earthquake'"):
        Scenario.load(path)


@pytest.mark.xdist_group("inner-runs")
def test_two_workers_at_once_one_faulted_the_other_unaffected(inner_pytest, tmp_path: Path) -> None:
    source = """
import os, pathlib, statistics, time
import pytest
from harness._waiting import wait_for

DIR = pathlib.Path(os.environ["INNER_DIR"])

def wait(name):
    wait_for(lambda: (DIR / name).exists(), 60, name, interval=0.05)

def rtt(client):
    client.ping()
    samples = []
    for _ in range(7):
        start = time.perf_counter(); client.ping(); samples.append(time.perf_counter() - start)
    return statistics.median(samples)

def test_faulted(redis_client, faults, worker_id):
    (DIR / f"worker-faulted").write_text(worker_id)
    with faults.latency("redis", ms=200):
        assert rtt(redis_client) > 0.19
        (DIR / "applied").write_text("1")
        wait("measured")

def test_neighbour(redis_client, worker_id):
    (DIR / f"worker-neighbour").write_text(worker_id)
    wait("applied")
    (DIR / "rtt").write_text(str(rtt(redis_client)))
    (DIR / "measured").write_text("1")
"""
    code, output = inner_pytest(source, "-n", "2", "--stack-services", "redis").finish()
    assert code == 0, output
    assert (tmp_path / "worker-faulted").read_text() != (tmp_path / "worker-neighbour").read_text()
    assert float((tmp_path / "rtt").read_text()) < 0.05


@pytest.mark.exclusive_stack
def test_cli_reproduces_faults_on_a_running_stack(stack: Stack, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "stack.json").write_text(json.dumps({"project": stack.project, "services": []}))
    env = {**os.environ, "HARNESS_STATE_DIR": str(state)}

    def harness(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "harness.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    address = stack.address("redis")
    client = redis.Redis(host=address.host, port=address.port)
    assert (
        harness("fault", "add", "latency", "redis", "--ms", "150", "--jitter", "10").returncode == 0
    )
    assert statistics.median(_pings(client)) >= 0.13
    assert harness("fault", "loss", "redis", "20%").returncode == 0
    assert harness("fault", "partition", "litellm", "redis").returncode == 0
    listing = harness("fault", "list").stdout
    assert "latency" in listing and "statistic" in listing and listing.count("harness-") >= 3
    bad = harness("fault", "loss", "redis", "150%")
    assert bad.returncode == 1 and "loss must be within" in bad.stderr
    http = ["fault", "add", "litellm", "http", "--status", "429", "--retry-after", "2"]
    assert harness(*http, "--path", "/v1/chat/completions", "--times", "2").returncode == 0
    chat = f"{stack.address('litellm').url}/v1/chat/completions"
    body = {"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}]}
    auth = {"Authorization": f"Bearer {LITELLM_MASTER_KEY}"}
    answers = [httpx.post(chat, json=body, headers=auth, timeout=30) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["retry-after"] == "2"
    assert "http" in harness("fault", "list").stdout
    refused = harness("fault", "add", "litellm", "http", "--status", "700")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "status must be 100..599" in refused.stderr
    assert harness("fault", "clear").returncode == 0
    assert statistics.median(_pings(client)) < 0.05
    listing = harness("fault", "list").stdout
    assert "latency" not in listing and "harness-" not in listing and "http" not in listing
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "seed: 1\nsteps:\n  - {at: 0, fault: latency, service: comfyui, ms: 300}\n"
        "  - {at: 0.5, clear: all}\n"
    )
    played = harness("scenario", "run", str(scenario))
    assert played.returncode == 0 and "clear all" in played.stdout
