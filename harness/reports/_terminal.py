"""A run's report in the terminal (`harness report`): its tests, latency and containers as rich
tables, the counts, and where its HTML report is."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.reports import REPORT_HTML, load
from harness.reports import _markdown as markdown

_OUTCOME_STYLES = {"failed": "red", "error": "red", "passed": "green"}
_TEST_COLUMNS = ("test", "outcome", "duration (s)", "faults")
_LATENCY_COLUMNS = ("backend", "faults", "samples", "p50", "p95", "p99")
_USAGE_COLUMNS = ("container", "service", "peak CPU %", "peak MB", "mean MB")


def show(console: Console, directory: Path) -> None:
    """Print the run reported in `directory`: its tests, then latency and containers when it
    has any, the counts, and the path of its HTML report."""
    data = load(directory)
    summary = data["summary"]
    console.print(_tests(data))
    latency = markdown.latency_rows(data)
    if latency:
        console.print(_table("latency (ms)", _LATENCY_COLUMNS, latency))
    usage = markdown.resource_rows(data)
    if usage:
        console.print(_table("containers", _USAGE_COLUMNS, usage))
    console.print(
        ", ".join(f"{n} {k}" for k, n in summary.items() if k != "total") or "no tests",
        highlight=False,
    )
    console.print(f"HTML: {(directory / REPORT_HTML).resolve()}", highlight=False, soft_wrap=True)


def _tests(data: dict[str, Any]) -> Table:
    summary = data["summary"]
    title = f"run {data['run']}: {summary['total']} tests in {data['duration']:.1f} s"
    rows = []
    for test in data["tests"]:
        style = _OUTCOME_STYLES.get(test["outcome"], "")
        rows.append(
            [
                test["nodeid"],
                f"[{style}]{test['outcome']}[/]" if style else test["outcome"],
                f"{test['duration']:.2f}",
                str(len(test["faults"])),
            ]
        )
    return _table(title, _TEST_COLUMNS, rows)


def _table(title: str, columns: Sequence[str], rows: list[list[str]]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    return table
