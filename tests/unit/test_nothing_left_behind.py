"""A pytest run in a project without a harness configuration, using no harness fixture, leaves
nothing in the project's tree: the package being installed is not enough to write reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._pytest_run import run_pytest


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_an_unconfigured_project_gets_no_reports_or_state(
    tmp_path: Path, workers: list[str]
) -> None:
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    run_pytest(tmp_path, *workers).assert_passed(["test_plain.py::test_plain"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test_plain.py"]


def test_a_configured_project_gets_its_report(tmp_path: Path) -> None:
    (tmp_path / "harness.toml").write_text('backends = ["redis"]\n')
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    run_pytest(tmp_path).assert_passed(["test_plain.py::test_plain"])
    assert len(list(tmp_path.glob("reports/hx-*/report.json"))) == 1
