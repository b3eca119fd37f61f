"""Which pytest process this is: the xdist controller (or a run without xdist) or a worker.

xdist gives each worker `config.workerinput` (with `workercount`) and `PYTEST_XDIST_WORKER`
(`gw0` …); the controller has neither.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

MAIN = "main"  # the controller's (or a run without xdist's) name in event and test records


def is_worker(config: pytest.Config) -> bool:
    """Whether this process is an xdist worker (not the controller, not a run without xdist)."""
    return hasattr(config, "workerinput")


def worker_count(config: pytest.Config) -> int:
    """How many processes run tests at once: xdist's worker count, 1 without xdist."""
    workerinput = getattr(config, "workerinput", None)
    return int(workerinput["workercount"]) if workerinput else 1


def worker_index(worker_id: str) -> int:
    """`gw3` -> 3; the controller (`master`) -> 0."""
    return int(worker_id[2:]) if worker_id.startswith("gw") else 0


def current() -> str:
    """This process's xdist worker id (`gw0` …), or `main`."""
    return os.environ.get("PYTEST_XDIST_WORKER", MAIN)
