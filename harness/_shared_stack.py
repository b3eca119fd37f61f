"""One stack for every process of the run: started once under a lock, recorded, torn down once.

The first worker that needs the stack starts it while holding a lock file in the run's shared
directory and records the outcome there (its project and services, or the error); the others
wait on the lock and read the record. The controller tears the recorded stack down at the end.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness import _locks
from harness._errors import HarnessError
from harness._stack import Stack

STATE_FILE = "harness-stack.json"
LOCK_FILE = "harness-stack.lock"


def attach(project: str, services: Sequence[str]) -> Stack:
    """A running stack (`--attach-stack`, `--attach-run`); the test fails unless `services` run."""
    attached = Stack(project)
    wanted = [s.name for s in attached.topology.select(services)]
    missing = sorted(set(wanted) - set(attached.running_services()))
    if missing:
        pytest.fail(f"stack {project} has no running {', '.join(missing)}: `harness up` first")
    return attached


def start_once(
    shared: Path,
    project: str,
    owner: str,
    services: Sequence[str],
    timeout: float,
    clients: int | None = None,
) -> Stack:
    """The run's stack, healthy: started here unless another process of the run has started it
    (or failed to: then the test fails with that process's error)."""
    started = Stack(project, owner=owner)
    with _locks.exclusive(shared / LOCK_FILE):
        state = shared / STATE_FILE
        if state.exists():
            record = json.loads(state.read_text())
            if record.get("error"):
                pytest.fail(
                    f"the stack failed to start in another worker: {record['error']}",
                    pytrace=False,
                )
        else:
            try:
                names = started.up(services, timeout=timeout, clients=clients)
            except HarnessError as error:
                failure = str(error)
            else:
                failure = ""
                state.write_text(json.dumps({"project": project, "services": names}))
            if failure:  # one line naming the fix, outside the handler (no chained traceback)
                state.write_text(json.dumps({"project": project, "error": failure}))
                pytest.fail(failure, pytrace=False)
    return started


def tear_down(shared: Path, keep: bool) -> None:
    """Take down the stack the run recorded, if any (with `keep`, a healthy one stays up)."""
    state = shared / STATE_FILE
    if not state.exists():
        return
    record = json.loads(state.read_text())
    if keep and not record.get("error"):
        run = record["project"]
        print(f"\nmediastack-harness: stack {run} kept; attach with --attach-run {run}")
        return
    Stack(record["project"]).down()
