"""Helpers for the integration suite: run an inner pytest (its own run, its own stack)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import _paths
from harness._waiting import wait_for
from tests.integration import _engines

pytestmark = pytest.mark.integration
# Outside projects' files, run by test_adoption.py and test_prometheus_scrape_link.py.
collect_ignore = ["adopter_project", "prometheus_project", "engine_project"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@dataclass
class InnerRun:
    """An inner pytest process started in its own session (process group)."""

    process: subprocess.Popen[str]
    directory: Path

    @property
    def record(self) -> dict[str, str]:
        """What the inner tests wrote: {worker: project} lines merged."""
        found: dict[str, str] = {}
        for path in self.directory.glob("seen-*.json"):
            found.update(json.loads(path.read_text()))
        return found

    def project(self, timeout: float = 120) -> str:
        wait_for(lambda: self.record, timeout, "the inner run to start its stack")
        return next(iter(self.record.values()))

    def signal(self, signum: int, group: bool = True) -> None:
        if group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)

    def finish(self, timeout: float = 180) -> tuple[int, str]:
        output, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, output


def _interruptible() -> None:
    """In the inner run: Ctrl-C works even when this run was started with SIGINT ignored
    (as shells start background jobs), since ignored signals are inherited."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="session")
def engines() -> Iterator[dict[str, _engines.Engine]]:
    """The other engines on this machine (tests/integration/_engines.py), up once per worker:
    the modules using them share the xdist group `engines`."""
    found = _engines.up(_engines.NAMES)
    try:
        yield found
    finally:
        _engines.down([name for name, engine in found.items() if engine.started])


@pytest.fixture
def inner_pytest(tmp_path: Path) -> Callable[..., InnerRun]:
    """Start `pytest` on one test file in a fresh directory; killed at the end if still alive."""
    started: list[InnerRun] = []

    def start(source: str, *args: str) -> InnerRun:
        (tmp_path / "test_inner.py").write_text(source)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTEST_", "HARNESS_RUN", "HARNESS_OWNER"))
        }
        env["HARNESS_PROJECT_ROOT"] = str(_paths.project_root())
        env["INNER_DIR"] = str(tmp_path)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-q",
                "--basetemp",
                str(tmp_path / "basetemp"),
                "--rootdir",
                str(tmp_path),
                *args,
                str(tmp_path / "test_inner.py"),
            ],
            cwd=tmp_path,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_interruptible,
        )
        run = InnerRun(process, tmp_path)
        started.append(run)
        return run

    yield start
    for run in started:
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)
            run.process.wait(timeout=30)
