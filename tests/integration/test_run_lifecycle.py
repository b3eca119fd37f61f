"""One stack per run, shared by all xdist workers, and teardown that never leaks.

Each test here starts an inner pytest run (its own run id, its own Redis-only stack) and asks
Docker for whatever still carries that run's label afterwards.
"""

from __future__ import annotations

import signal

import pytest

from harness import _reaper as reaper
from harness._stack import Stack
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.xdist_group("inner-runs")

RECORDING_TEST = """
import json, os, pathlib, time

def _record(stack, worker_id, name):
    containers = sorted(c.id for c in stack.containers().values())
    path = pathlib.Path(os.environ["INNER_DIR"]) / f"seen-{{worker_id}}-{{name}}.json"
    path.write_text(json.dumps({{worker_id: stack.project, "containers-" + worker_id: containers}}))

{tests}
"""


def _tests(count: int, body: str = "pass") -> str:
    return "\n".join(
        f"def test_{i}(stack, redis_client, worker_id):\n"
        f"    _record(stack, worker_id, '{i}')\n"
        f"    redis_client.set('k', {i})\n"
        f"    {body}\n"
        for i in range(count)
    )


def _source(count: int, body: str = "pass") -> str:
    return RECORDING_TEST.format(tests=_tests(count, body))


REDIS_ONLY = ("--stack-services", "redis")


def test_four_workers_share_one_stack_and_it_is_removed(inner_pytest) -> None:
    run = inner_pytest(_source(8), "-n", "4", *REDIS_ONLY)
    code, output = run.finish()
    assert code == 0, output
    record = run.record
    workers = {key for key in record if key.startswith("gw")}
    projects = {record[worker] for worker in workers}
    container_sets = {tuple(record[f"containers-{worker}"]) for worker in workers}
    assert len(workers) == 4, record
    assert len(projects) == 1, projects
    assert len(container_sets) == 1
    assert len(next(iter(container_sets))) == 3  # redis, the toxiproxy and the HTTP layer
    assert reaper.leftovers(projects.pop()) == {}


def test_failing_run_is_torn_down_and_reports_service_logs(inner_pytest) -> None:
    run = inner_pytest(_source(2, "assert False, 'boom'"), "-n", "2", *REDIS_ONLY)
    code, output = run.finish()
    assert code == 1
    assert "harness logs: redis" in output
    assert "Ready to accept connections" in output  # Redis's own log line, from the container
    assert reaper.leftovers(run.project()) == {}


WAITING_BODY = (
    "deadline = time.monotonic() + 120\n    while time.monotonic() < deadline: time.sleep(0.05)"
)


@pytest.mark.parametrize(
    ("signum", "group"), [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["ctrl-c", "sigterm"]
)
def test_interrupted_run_is_torn_down(inner_pytest, signum: int, group: bool) -> None:
    run = inner_pytest(_source(1, WAITING_BODY), "-n", "2", *REDIS_ONLY)
    project = run.project()
    assert reaper.leftovers(project), "the stack should be up while the test runs"
    run.signal(signum, group=group)
    code, output = run.finish()
    assert code != 0
    assert reaper.leftovers(project) == {}, output


def test_killed_run_is_reaped_later_without_touching_a_live_stack(
    inner_pytest, stack: Stack
) -> None:
    live_before = stack.running_services()
    killed = inner_pytest(_source(1, WAITING_BODY), "-n", "2", *REDIS_ONLY)
    project = killed.project()
    killed.signal(signal.SIGKILL)
    killed.process.wait(timeout=30)
    assert reaper.leftovers(project), "SIGKILL leaves the stack behind"

    next_run = inner_pytest(_source(1), *REDIS_ONLY)
    code, output = next_run.finish()
    assert code == 0, output
    wait_for(lambda: reaper.leftovers(project) == {}, 30, "the dead run's leftovers to go")
    assert stack.running_services() == live_before


def test_kept_stack_survives_the_run_and_a_later_run_attaches(inner_pytest) -> None:
    first = inner_pytest(_source(1), "--keep-stack", *REDIS_ONLY)
    code, output = first.finish()
    assert code == 0, output
    project = first.project()
    try:
        assert reaper.leftovers(project), "--keep-stack leaves the stack running"
        assert f"--attach-run {project}" in output
        second = inner_pytest(_source(2), "--attach-run", project, *REDIS_ONLY)
        code, output = second.finish()
        assert code == 0, output
        assert second.record["master"] == project
        assert reaper.leftovers(project), "an attached run never tears the stack down"
    finally:
        Stack(project).down()
    assert reaper.leftovers(project) == {}
