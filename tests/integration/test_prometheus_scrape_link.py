"""Prometheus in a project scaffolded by `harness init --backends prometheus`: its starter rules
are loaded, and faults on the scrape link (`via="prometheus"`) reach Prometheus only.

The inner run is an outside project's: `harness init` in an empty directory, two services under
test added to its config (`api` scraped, `worker` not), and the tests of prometheus_project/
run there with pytest, against a stack of Toxiproxy and Prometheus.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import _reaper as reaper
from harness._stack import new_project_name
from tests._pytest_run import run_pytest

pytestmark = [pytest.mark.xdist_group("inner-runs"), pytest.mark.timeout(600)]

PROJECT = Path(__file__).with_name("prometheus_project")
INNER_TESTS = (  # under tests/integration/ of the inner project
    "test_harness_prometheus.py::test_prometheus_evaluates_the_starter_rules",
    "test_scrape_link.py::test_a_cut_scrape_link_takes_the_target_down_for_prometheus_only",
    "test_scrape_link.py::test_latency_on_the_scrape_link_slows_the_scrapes_until_it_ends",
    "test_scrape_link.py::test_a_service_prometheus_does_not_scrape_has_no_scrape_link",
)


def _scaffolded(directory: Path, env: dict[str, str]) -> None:
    """`harness init --backends prometheus`, then what the adopter adds: its services, `api`
    as Prometheus's target, and its tests."""
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "init", "--backends", "prometheus"],
        cwd=directory,
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "monitoring/rules.yml: wrote" in done.stdout
    config = directory / "harness.toml"
    text = config.read_text()
    assert text.count("\ntargets = []") == 1, text
    text = text.replace("\ntargets = []", '\ntargets = ["api"]')
    config.write_text(text + (PROJECT / "services.toml").read_text())
    for name in ("app.py", "test_scrape_link.py"):
        target = directory / ("tests/integration" if name.startswith("test_") else "") / name
        shutil.copy(PROJECT / name, target)


def test_faults_on_the_scrape_link_reach_prometheus_only(tmp_path: Path) -> None:
    uid = secrets.token_hex(8)
    env = {"HARNESS_PROJECT_ROOT": str(tmp_path)}
    _scaffolded(tmp_path, env)
    try:
        outcome = run_pytest(
            tmp_path, "--testrunuid", uid, "tests/integration", env=env, timeout=480
        )
    finally:
        leftovers = reaper.leftovers(new_project_name(uid))
    outcome.assert_passed(INNER_TESTS)
    assert leftovers == {}
