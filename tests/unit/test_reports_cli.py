"""`harness report` and `--help` everywhere, through typer.testing (no Docker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from harness import cli
from harness.reports import _writer as writer
from tests.unit.test_reports import report  # noqa: F401  (the synthetic run fixture)

runner = CliRunner()


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in getattr(group, "commands", {}).items():
        found += _commands(command, (*path, name))
    return found


COMMANDS = _commands(typer.main.get_command(cli.app))


def test_the_cli_has_the_issue_commands() -> None:
    top = {path[0] for path in COMMANDS if path}
    assert {"up", "down", "status", "logs", "images", "fault", "scenario", "report"} <= top


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "harness")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(cli.app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_report_prints_the_summary_table_and_html_path(report, tmp_path: Path) -> None:  # noqa: F811
    writer.write_all(tmp_path / report["run"], report, {})
    result = runner.invoke(cli.app, ["report", "--dir", str(tmp_path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "run hx-synthetic: 3 tests" in result.output
    assert "tests/test_b.py::TestX::test_fails" in result.output
    assert "with faults" in result.output and "latency (ms)" in result.output
    assert "1 failed, 2 passed" in result.output
    html = (tmp_path / report["run"] / "report.html").resolve()
    assert f"HTML: {html}" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [(["report", "hx-nothing"], "no report for run hx-nothing"), (["report"], "no run reports")],
)
def test_report_errors_are_one_line_and_exit_1(tmp_path: Path, args, message) -> None:
    result = runner.invoke(cli.app, [*args, "--dir", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("error:")


def test_status_without_an_up_stack_is_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_STATE_DIR", str(tmp_path))
    result = runner.invoke(cli.app, ["status"])
    assert result.exit_code == 1
    expected = "error: no stack started by `harness up`: run `harness up` first"
    assert result.output.strip() == expected
