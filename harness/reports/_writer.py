"""Write every report file of a run; one writer's failure never stops the others."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.reports import JUNIT_XML, REPORT_HTML, REPORT_JSON, SUMMARY_MD
from harness.reports import _html as html
from harness.reports import _junit as junit
from harness.reports import _markdown as markdown


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:150]


def log_path(directory: Path, nodeid: str, service: str) -> Path:
    """Where a failed test's log of one service is written."""
    return directory / "logs" / _safe(nodeid) / f"{_safe(service)}.log"


def write_logs(directory: Path, logs: dict[str, dict[str, str]]) -> list[Path]:
    """logs/<test>/<service>.log for each failed test's services."""
    written = []
    for nodeid, services in logs.items():
        for service, text in services.items():
            path = log_path(directory, nodeid, service)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(path)
    return written


def write_all(
    directory: Path, report: dict[str, Any], logs: dict[str, dict[str, str]]
) -> list[str]:
    """Write report.json, junit.xml, summary.md, report.html and logs/; the failures, one line
    each (the Markdown summary is also appended to $GITHUB_STEP_SUMMARY when set)."""
    directory.mkdir(parents=True, exist_ok=True)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")

    def summary() -> None:
        text = markdown.render(report)
        (directory / SUMMARY_MD).write_text(text)
        if step_summary:
            with open(step_summary, "a") as out:
                out.write(text + "\n")

    writers: list[tuple[str, Callable[[], Any]]] = [
        (REPORT_JSON, lambda: (directory / REPORT_JSON).write_text(json.dumps(report, indent=1))),
        (JUNIT_XML, lambda: (directory / JUNIT_XML).write_text(junit.render(report))),
        (SUMMARY_MD, summary),
        (REPORT_HTML, lambda: (directory / REPORT_HTML).write_text(html.render(report, logs))),
        ("logs", lambda: write_logs(directory, logs)),
    ]
    problems = []
    for name, write in writers:
        try:
            write()
        except Exception as error:
            problems.append(f"{name}: {type(error).__name__}: {error}")
    return problems
