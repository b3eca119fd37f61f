"""The controller's view of a run: test reports in, one report dictionary out."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from harness import _events
from harness.reports import _latency as latency

PROPERTY = "harness.report"  # the user property a test's data travels in
LOGS_PREFIX = "harness logs: "
MAX_RAW_SAMPLES = 20000  # per backend and condition, for the plots


@dataclass
class TestRecord:
    """One test, merged from its setup, call and teardown reports."""

    nodeid: str
    outcome: str = "passed"
    duration: float = 0.0
    message: str | None = None
    faults: list[dict[str, Any]] = field(default_factory=list)
    samples: list[latency.Sample] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)
    start: float | None = None
    end: float | None = None
    worker: str = _events.MAIN


def _outcome(when: str, report: Any) -> str | None:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.failed:
        return "failed" if when == "call" else "error"
    if report.skipped:
        return "skipped"
    return None


class RunCollector:
    """Merges test reports (from any xdist worker) into per-test records."""

    def __init__(self, run: str, shard: str | None = None, commit: str | None = None) -> None:
        self.run, self.shard, self.commit = run, shard, commit
        self.plan: dict[str, Any] | None = None  # what a shard's split was computed from
        self.started = time.time()
        self.tests: dict[str, TestRecord] = {}

    def add(self, report: Any) -> None:
        """Take one phase's report; pops this plugin's user property so JUnit never sees it."""
        record = self.tests.setdefault(report.nodeid, TestRecord(report.nodeid))
        record.duration += float(getattr(report, "duration", 0.0) or 0.0)
        start, stop = getattr(report, "start", None), getattr(report, "stop", None)
        if start is not None:
            record.start = start if record.start is None else min(record.start, start)
        if stop is not None:
            record.end = stop if record.end is None else max(record.end, stop)
        record.worker = str(getattr(report, "worker_id", None) or record.worker)
        outcome = _outcome(report.when, report)
        if outcome and record.outcome in ("passed", "skipped", "xpassed"):
            record.outcome = outcome
            if report.failed or outcome == "skipped":
                record.message = _message(report)
        for name, content in getattr(report, "sections", []):
            if report.failed and name.startswith(LOGS_PREFIX):
                record.logs[name[len(LOGS_PREFIX) :]] = content
        properties = getattr(report, "user_properties", [])
        for item in [p for p in properties if p[0] == PROPERTY]:
            properties.remove(item)
            record.faults += item[1].get("faults", [])
            record.samples += item[1].get("samples", [])

    def build(
        self, resources: dict[str, Any] | None = None, events: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The run as plain data: its shard and commit, summary, tests (each with its duration
        and the stack events during it), latency stats and samples, resources, and the whole
        event log."""
        events = events or []
        finished = time.time()
        tests = sorted(self.tests.values(), key=lambda t: t.nodeid)
        counts: dict[str, int] = {}
        for test in tests:
            counts[test.outcome] = counts.get(test.outcome, 0) + 1
        every = [s for t in tests for s in t.samples]
        return {
            "run": self.run,
            "shard": self.shard,
            "shard_plan": self.plan,
            "commit": self.commit,
            "started": self.started,
            "finished": finished,
            "duration": round(finished - self.started, 3),
            "summary": {"total": len(tests), **dict(sorted(counts.items()))},
            "tests": [
                {
                    "nodeid": t.nodeid,
                    "outcome": t.outcome,
                    "duration": round(t.duration, 4),
                    "message": t.message,
                    "faults": t.faults,
                    "latency": latency.summarise(t.samples),
                    "logs": sorted(t.logs),
                    "worker": t.worker,
                    "start": t.start,
                    "end": t.end,
                    "events": _events.during(events, t.start, t.end, t.nodeid)
                    if t.start is not None and t.end is not None
                    else [],
                }
                for t in tests
            ],
            "latency": latency.summarise(every),
            "latency_samples_ms": _raw(every),
            "resources": resources or {},
            "events": events,
        }

    def failure_logs(self) -> dict[str, dict[str, str]]:
        """{nodeid: {service: log text}} of the failed tests."""
        return {t.nodeid: t.logs for t in self.tests.values() if t.logs}


def _message(report: Any) -> str:
    text = getattr(report, "longreprtext", "") or ""
    if report.skipped and isinstance(report.longrepr, tuple):
        text = str(report.longrepr[2])
    return text[-4000:]


def _raw(samples: list[latency.Sample]) -> dict[str, dict[str, list[float]]]:
    raw: dict[str, dict[str, list[float]]] = {}
    for backend, operations in latency.split(samples).items():
        merged: dict[str, list[float]] = {"with_faults": [], "without_faults": []}
        for conditions in operations.values():
            for name, values in conditions.items():
                merged[name] += values
        for name, values in merged.items():
            stride = max(1, len(values) // MAX_RAW_SAMPLES + (len(values) % MAX_RAW_SAMPLES > 0))
            merged[name] = values[::stride]
        raw[backend] = merged
    return raw
