"""Who owns a run, and when its leftovers may be reaped."""

from __future__ import annotations

import os
import subprocess
import sys

from harness import _labels


def test_this_process_owns_a_live_run() -> None:
    assert _labels.owner_alive(_labels.owner_token())


def test_a_finished_process_owns_a_dead_run() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    token = _labels.owner_token(child.pid)
    child.wait()
    assert not _labels.owner_alive(token)


def test_a_reused_pid_does_not_revive_a_dead_owner() -> None:
    host, pid, start = _labels.owner_token().rsplit(":", 2)
    assert not _labels.owner_alive(f"{host}:{pid}:{int(start) - 1}")


def test_kept_and_foreign_runs_are_never_reaped_automatically() -> None:
    assert _labels.owner_alive(_labels.KEPT)
    assert _labels.owner_alive(f"another-host:{os.getpid()}:1")
