"""Allure, for teams that already run it (`pytest --alluredir DIR` with allure-pytest): a failing
test's service logs, requests and fault windows become attachments of its Allure result, and a
run's results are kept beside its report for `harness report merge` to gather."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.reports._collect import LOGS_PREFIX

RESULTS = "allure-results"  # in a run's (and a merged) report directory


def results_dir(config: pytest.Config) -> Path | None:
    """Where allure-pytest writes this run's results (None: Allure is not in use)."""
    chosen = getattr(config.option, "allure_report_dir", None)
    return Path(chosen) if chosen else None


def attach(report: pytest.TestReport, faults: list[dict[str, Any]]) -> None:
    """Attach a failed phase's harness sections and the test's faults to its Allure result."""
    import allure

    for name, content in report.sections:
        if name.startswith(LOGS_PREFIX):
            allure.attach(
                content, name=name[len(LOGS_PREFIX) :], attachment_type=allure.attachment_type.TEXT
            )
    if faults:
        allure.attach(
            json.dumps(faults, indent=1, default=str),
            name="faults",
            attachment_type=allure.attachment_type.JSON,
        )


def keep(config: pytest.Config, directory: Path) -> None:
    """Copy the run's Allure results into its report directory (they travel with it)."""
    source = results_dir(config)
    if source is not None and source.is_dir():
        shutil.copytree(source, directory / RESULTS, dirs_exist_ok=True)


def gather(directories: list[Path], out: Path) -> int:
    """Every merged run's Allure results in `out/allure-results`, as allure-pytest wrote them
    (their names are uuids: none collides); how many files."""
    target = out / RESULTS
    shutil.rmtree(target, ignore_errors=True)
    copied = 0
    for directory in directories:
        source = directory / RESULTS
        if source.is_dir():
            for path in sorted(source.iterdir()):
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target / path.name)
                copied += 1
    return copied
