"""The run: its id (the compose project), its owner, SIGTERM, and the directory its processes
share.

The xdist controller (or a run without xdist) owns the run: it names it and exports the name and
owner token, which the workers inherit when xdist spawns them. A project with a `test-env` has its
run named before collection (`begin_early`), and its shared directory made then, outside the base
temp (which pytest has not made yet and empties when `--basetemp` names it): the workers inherit
its path as `HARNESS_SHARED_DIR`.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

import pytest

from harness import _labels, _workers
from harness._stack import new_project_name

SHARED_ENV = "HARNESS_SHARED_DIR"  # the early shared directory, for the workers
_RUN = pytest.StashKey[str]()  # the run this controller named
_EARLY_UID = pytest.StashKey[str]()  # the xdist run uid it chose before collection
_EARLY_SHARED = pytest.StashKey[Path]()  # the shared directory it made before collection


def run_id(config: pytest.Config) -> str:
    """The run's compose project: from PYTEST_XDIST_TESTRUNUID (same in every worker) or fresh."""
    if _workers.is_worker(config):
        return os.environ["HARNESS_RUN_ID"]
    named = config.stash.get(_RUN, None)
    if named is not None:
        return named
    uid = getattr(config.option, "testrunuid", None)
    return new_project_name(uid)


def owner() -> str:
    """The owner token the run's resources carry (the controller's, inherited by workers)."""
    return os.environ.get("HARNESS_OWNER", _labels.owner_token())


def begin(config: pytest.Config) -> None:
    """In the controller: name the run and its owner for every process of the run (as env), and
    let SIGTERM take the Ctrl-C path, so the stack is torn down on it too. (Named already when
    `begin_early` ran: the xdist uid it chose is kept.)"""
    early = config.stash.get(_EARLY_UID, None)
    if getattr(config.option, "testrunuid", "missing") is None:
        config.option.testrunuid = early or os.urandom(16).hex()
    if early is None:
        os.environ.pop(SHARED_ENV, None)  # one a parent process set is not this run's
        _name(config, run_id(config), keep=config.getoption("keep_stack"))
    _terminate_on_sigterm()


def begin_early(config: pytest.Config) -> tuple[str, Path]:
    """`begin` before collection (the options are `known_args_namespace`'s), and the run's
    shared directory made: the run id and that directory."""
    options = config.known_args_namespace
    uid = getattr(options, "testrunuid", None) or os.urandom(16).hex()
    config.stash[_EARLY_UID] = uid
    run = new_project_name(uid)
    _name(config, run, keep=bool(getattr(options, "keep_stack", False)))
    _terminate_on_sigterm()
    shared = Path(tempfile.mkdtemp(prefix=f"mediastack-harness-{run}-"))
    config.stash[_EARLY_SHARED] = shared
    os.environ[SHARED_ENV] = str(shared)
    return run, shared


def forget_early(config: pytest.Config) -> None:
    """Remove the shared directory `begin_early` made (once the stack is down)."""
    shared = config.stash.get(_EARLY_SHARED, None)
    if shared is not None:
        shutil.rmtree(shared, ignore_errors=True)


def _name(config: pytest.Config, run: str, keep: bool) -> None:
    config.stash[_RUN] = run
    os.environ["HARNESS_RUN_ID"] = run
    os.environ["HARNESS_OWNER"] = _labels.KEPT if keep else _labels.owner_token()


def _terminate_on_sigterm() -> None:
    previous = signal.getsignal(signal.SIGTERM)

    def _terminate(signum: int, frame: Any) -> None:  # SIGTERM takes the Ctrl-C path
        signal.signal(signal.SIGTERM, previous)
        raise KeyboardInterrupt(f"signal {signum}")

    if previous in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _terminate)


def shared_dir(config: pytest.Config) -> Path:
    """The directory every process of the run sees: the one `begin_early` made, else the
    controller's base temp (a worker's base temp is a directory inside it)."""
    early = config.stash.get(_EARLY_SHARED, None)
    if early is None and _workers.is_worker(config) and os.environ.get(SHARED_ENV):
        early = Path(os.environ[SHARED_ENV])
    if early is not None:
        return early
    basetemp = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    return basetemp.parent if _workers.is_worker(config) else basetemp
