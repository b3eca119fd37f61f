"""The run: its id (the compose project), its owner, SIGTERM, and the directory its processes
share.

The xdist controller (or a run without xdist) owns the run: it names it and exports the name and
owner token, which the workers inherit when xdist spawns them.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from harness import _labels, _workers
from harness._stack import new_project_name


def run_id(config: pytest.Config) -> str:
    """The run's compose project: from PYTEST_XDIST_TESTRUNUID (same in every worker) or fresh."""
    if _workers.is_worker(config):
        return os.environ["HARNESS_RUN_ID"]
    uid = getattr(config.option, "testrunuid", None)
    return new_project_name(uid)


def owner() -> str:
    """The owner token the run's resources carry (the controller's, inherited by workers)."""
    return os.environ.get("HARNESS_OWNER", _labels.owner_token())


def begin(config: pytest.Config) -> None:
    """In the controller: name the run and its owner for every process of the run (as env), and
    let SIGTERM take the Ctrl-C path, so the stack is torn down on it too."""
    if getattr(config.option, "testrunuid", "missing") is None:
        config.option.testrunuid = os.urandom(16).hex()
    os.environ["HARNESS_RUN_ID"] = run_id(config)
    os.environ["HARNESS_OWNER"] = _labels.owner_token()
    if config.getoption("keep_stack"):
        os.environ["HARNESS_OWNER"] = _labels.KEPT
    previous = signal.getsignal(signal.SIGTERM)

    def _terminate(signum: int, frame: Any) -> None:  # SIGTERM takes the Ctrl-C path
        signal.signal(signal.SIGTERM, previous)
        raise KeyboardInterrupt(f"signal {signum}")

    if previous in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _terminate)


def shared_dir(config: pytest.Config) -> Path:
    """The directory every process of the run sees: the controller's base temp (a worker's
    base temp is a directory inside it)."""
    basetemp = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    return basetemp.parent if _workers.is_worker(config) else basetemp
