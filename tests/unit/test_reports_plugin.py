"""The reports plugin end to end without Docker: an inner pytest run under xdist writes the
run's reports from data that travelled from the workers with the test reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

INNER = '''
import pytest
from harness.reports._latency import RECORDER


class FakeFault:
    def __init__(self):
        self.active = True


class FakeFaults:
    """Stands in for the `faults` fixture: what the plugin reads is `applied` and `history`."""

    def __init__(self):
        self.applied, self.history = [], []

    def latency(self, service, ms):
        self.applied.append(FakeFault())
        self.history.append({"layer": "tcp", "type": "latency", "service": service, "ms": ms})


@pytest.fixture
def faults():
    yield FakeFaults()


def _timed(ms, count):
    for _ in range(count):
        RECORDER.record("redis", "GET", ms / 1000, RECORDER.faulted())


def test_clean():
    _timed(1, 20)


def test_faulted(faults):
    _timed(1, 5)
    faults.latency("redis", 200)
    _timed(200, 20)


def test_fails():
    assert False, "boom"
'''


def test_inner_xdist_run_writes_reports_with_worker_data(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(INNER)
    step_summary = tmp_path / "step-summary.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HARNESS_"))}
    env["GITHUB_STEP_SUMMARY"] = str(step_summary)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-n",
            "2",
            "--rootdir",
            str(tmp_path),
            "--harness-reports",
            str(tmp_path / "reports"),
            "test_inner.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    (run,) = (tmp_path / "reports").iterdir()
    assert f"mediastack-harness: reports in {run}" in done.stdout
    report = json.loads((run / "report.json").read_text())
    tests = {t["nodeid"].split("::")[-1]: t for t in report["tests"]}
    assert {name: t["outcome"] for name, t in tests.items()} == {
        "test_clean": "passed",
        "test_faulted": "passed",
        "test_fails": "failed",
    }
    assert "boom" in tests["test_fails"]["message"]
    assert tests["test_faulted"]["faults"] == [
        {"layer": "tcp", "type": "latency", "service": "redis", "ms": 200}
    ]
    faulted = tests["test_faulted"]["latency"]["redis"]
    assert (faulted["with_faults"]["count"], faulted["without_faults"]["count"]) == (20, 5)
    assert tests["test_clean"]["latency"]["redis"]["with_faults"] == {"count": 0}
    redis = report["latency"]["redis"]
    assert redis["with_faults"]["p95"] > redis["without_faults"]["p95"]
    junit = (run / "junit.xml").read_text()
    assert "<property" not in junit and junit.count("<testcase") == 3
    assert 'src="data:image/png;base64,' in (run / "report.html").read_text()
    assert f"## mediastack-harness run `{run.name}`" in step_summary.read_text()


def test_unwritable_reports_dir_is_one_warning_not_a_failed_run(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text("def test_ok():\n    pass\n")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HARNESS_"))}
    env.pop("GITHUB_STEP_SUMMARY", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--rootdir",
            str(tmp_path),
            "--harness-reports",
            str(blocker),
            "test_inner.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    warnings = [line for line in done.stdout.splitlines() if "WARNING: reports incomplete" in line]
    assert len(warnings) == 1 and str(blocker) in warnings[0]
