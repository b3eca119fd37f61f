"""The run's stack event log (issue 14): every process appends whole lines to one file; each
test record gets its start, end, worker and the events on the stack during it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness import _events
from harness.faults._base import Fault
from harness.reports._collect import RunCollector

ROOT = Path(__file__).resolve().parents[2]
WRITER = """
import sys
from harness import _events
for n in range(int(sys.argv[1])):
    _events.emit("proxy re-pointed", proxy="wan2gp--" + sys.argv[2], upstream="x" * 3000, n=n)
"""


def test_workers_and_controller_append_whole_lines_to_one_log(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    writers = []
    for worker in ("gw0", "gw1", "main"):
        env = {**os.environ, _events.ENV: str(log), "PYTHONPATH": str(ROOT)}
        env.pop("PYTEST_XDIST_WORKER", None)
        if worker != _events.MAIN:
            env["PYTEST_XDIST_WORKER"] = worker
        env["PYTEST_CURRENT_TEST"] = f"t.py::test_{worker} (call)"
        command = [sys.executable, "-c", WRITER, "300", worker]
        writers.append(subprocess.Popen(command, env=env))
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0, 0]
    lines = log.read_text().splitlines()
    events = _events.read(log)
    assert len(lines) == len(events) == 900  # no torn or interleaved line
    for worker in ("gw0", "gw1", "main"):
        mine = [e for e in events if e["worker"] == worker]
        assert [e["n"] for e in mine] == list(range(300))
        assert {e["test"] for e in mine} == {f"t.py::test_{worker}"}
        assert {e["proxy"] for e in mine} == {"wan2gp--" + worker}


class Flip(Fault):
    layer = "tcp"

    def _apply(self) -> None: ...

    def _clear(self) -> None: ...

    def describe(self) -> dict[str, Any]:
        return {"layer": self.layer, "fault": "latency", "proxy": "comfyui--gw0", "latency": 500}


def test_faults_log_their_apply_and_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "events.jsonl"
    monkeypatch.setenv(_events.ENV, str(log))
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    with Flip():
        pass
    kinds = [(e["kind"], e["worker"], e["proxy"], e["latency"]) for e in _events.read(log)]
    assert kinds == [
        ("fault applied", "gw0", "comfyui--gw0", 500),
        ("fault cleared", "gw0", "comfyui--gw0", 500),
    ]


def _report(nodeid: str, when: str, start: float, stop: float, worker: str) -> Any:
    return SimpleNamespace(
        nodeid=nodeid,
        when=when,
        start=start,
        stop=stop,
        duration=stop - start,
        worker_id=worker,
        failed=False,
        skipped=False,
        passed=True,
        sections=[],
        user_properties=[],
    )


def test_each_record_has_its_window_worker_and_every_event_during_it() -> None:
    collector = RunCollector("hx-unit")
    windows = {"setup": (10, 11), "call": (11, 19), "teardown": (19, 20)}
    for when, (start, stop) in windows.items():
        collector.add(_report("t.py::parallel", when, start, stop, "gw0"))
    events = [
        {"time": 9.0, "worker": "gw1", "kind": "exclusive left"},
        {"time": 9.5, "worker": "gw0", "kind": "exclusive entered", "test": "t.py::parallel"},
        {"time": 12.0, "worker": "gw1", "kind": "proxy re-pointed", "proxy": "wan2gp--gw0"},
        {"time": 21.0, "worker": "gw0", "kind": "fault applied"},
    ]
    (test,) = collector.build({}, events)["tests"]
    assert (test["worker"], test["start"], test["end"]) == ("gw0", 10, 20)
    assert test["events"] == events[1:3]  # its own section (opened before setup), another's
