"""Reports people read after a run: JUnit XML, JSON, Markdown, HTML with plots, failure logs.

Test processes record latency samples and the faults a test applied; the pytest plugin
(`harness.reports.plugin`) collects them in the controller and writes `reports/<run-id>/`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from harness import _config as config
from harness import _paths
from harness._errors import HarnessError
from harness.reports._instrument import observe
from harness.reports._latency import RECORDER
from harness.reports._latency import stats as latency_stats

__all__ = ["latency_stats", "observe", "record_latency"]

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
SUMMARY_MD = "summary.md"
JUNIT_XML = "junit.xml"


def record_latency(backend: str, operation: str, seconds: float) -> None:
    """Add one timed operation of the current test to the run's report (e.g. a user workflow).

    It lands next to the samples the client fixtures record, marked faulted when a fault is
    active, and shows in the p50/p95/p99 table and the latency plots.
    """
    RECORDER.record(backend, operation, seconds, RECORDER.faulted())


def reports_dir(override: str | None = None) -> Path:
    """Where run reports go: `override`, else HARNESS_REPORTS_DIR, else the project's
    `reports-dir` (default `<project>/reports`)."""
    chosen = override or os.environ.get("HARNESS_REPORTS_DIR")
    if chosen:
        return Path(chosen)
    project = config.current_or_none()
    return project.reports_path() if project else _paths.project_root() / "reports"


def find_run(root: Path, run: str | None = None) -> Path:
    """The directory of `run` under `root`, or of the newest run that has a report."""
    if run:
        directory = root / run
        if not (directory / REPORT_JSON).is_file():
            raise HarnessError(f"no report for run {run} in {root}")
        return directory
    runs = sorted(root.glob(f"*/{REPORT_JSON}"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise HarnessError(f"no run reports in {root}: run the tests first (`make test`)")
    return runs[-1].parent


def load(directory: Path) -> dict[str, Any]:
    """A run's report.json."""
    return dict(json.loads((directory / REPORT_JSON).read_text()))
