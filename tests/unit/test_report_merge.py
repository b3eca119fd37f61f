"""`harness report merge` and `harness durations update`, on the reports of real sharded pytest
runs of a small suite (pytest-xdist, 2 workers each): every test once, one JUnit suite per
shard, byte-identical output for the same input, flaky tests from the kept history, the merged
timeline's shard lanes in headless Chromium, bad input one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness import _shards, cli
from harness._shards import plain_nodeid
from tests.unit.test_report_browser import FLAGS, _chromium
from tests.unit.test_shards import run_pytest

runner = CliRunner()
SUITE = """
import os
import pytest

@pytest.mark.parametrize("n", range(6))
def test_free(n):
    pass

@pytest.mark.xdist_group("inner-runs")
def test_grouped():
    pass

def test_flaky():
    assert os.environ.get("FLAKY_FAILS") != "1", "the flaky test failed this time"

def test_skipped():
    pytest.skip("not here")
"""


def _run(root: Path, reports: Path, *args: str, fails: bool = False) -> Path:
    """One pytest run of the suite writing its report under `reports`; the run's directory."""
    before = set(reports.glob("*"))
    env = {**os.environ, "FLAKY_FAILS": "1" if fails else "0"}
    env.pop("HARNESS_RUN_ID", None)
    env.pop("HARNESS_EVENTS", None)
    args = ("-n", "2", "--dist", "loadgroup", f"--harness-reports={reports}", *args)
    run_pytest(root, *args, env=env)
    (made,) = set(reports.glob("*")) - before
    return made


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The suite unsharded, and as shards 1/2 and 2/2 (their reports under `shards/`)."""
    root = tmp_path_factory.mktemp("suite")
    (root / "test_suite.py").write_text(SUITE)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "test_suite.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "the suite"], check=True)  # the runs' commit
    whole = root / "whole"
    shards = root / "shards"
    whole.mkdir(), shards.mkdir()
    return {
        "root": root,
        "whole": _run(root, whole),
        "shards": shards,
        "1/2": _run(root, shards, "--harness-shard", "1/2"),
        "2/2": _run(root, shards, "--harness-shard", "2/2"),
    }


def _merge(*args: str | Path) -> Any:
    return runner.invoke(cli.app, ["report", "merge", *map(str, args)], terminal_width=400)


def _json(directory: Path) -> dict[str, Any]:
    return dict(json.loads((directory / "report.json").read_text()))


def test_the_merged_report_has_every_test_once(runs: dict[str, Any], tmp_path: Path) -> None:
    result = _merge(runs["shards"], "--out", tmp_path / "merged")
    assert result.exit_code == 0, result.output
    merged, whole = _json(tmp_path / "merged"), _json(runs["whole"])
    assert [s["shard"] for s in merged["shards"]] == ["1/2", "2/2"]
    assert merged["summary"] == whole["summary"] == {"total": 9, "passed": 8, "skipped": 1}
    ids = [t["nodeid"] for t in merged["tests"]]
    assert sorted(ids) == sorted(t["nodeid"] for t in whole["tests"]) and len(set(ids)) == 9
    assert {t["shard"] for t in merged["tests"]} == {"1/2", "2/2"}
    assert {t["worker"].split()[0] for t in merged["tests"]} == {"1/2", "2/2"}
    suites = ET.parse(tmp_path / "merged" / "junit.xml").getroot().findall("testsuite")
    names = [s.get("name") for s in suites]
    assert len(names) == len(set(names)) == 2 and all("shard" in str(n) for n in names)
    assert sum(int(s.get("tests", 0)) for s in suites) == 9
    assert (
        "## mediastack-harness 2 shards merged" in (tmp_path / "merged" / "summary.md").read_text()
    )


def test_merging_the_same_reports_twice_is_byte_identical(
    runs: dict[str, Any], tmp_path: Path
) -> None:
    for out in ("a", "b"):
        assert _merge(runs["1/2"], runs["2/2"], "--out", tmp_path / out).exit_code == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["junit.xml", "report.html", "report.json", "summary.md"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_overlapping_shards_and_other_commits_are_refused(
    runs: dict[str, Any], tmp_path: Path
) -> None:
    result = _merge(runs["whole"], runs["1/2"], "--out", tmp_path / "m")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "the shards overlap" in result.output
    other = tmp_path / "other"
    shutil.copytree(runs["2/2"], other)
    report = _json(other) | {"commit": "0" * 40}
    (other / "report.json").write_text(json.dumps(report))
    result = _merge(runs["1/2"], other, "--out", tmp_path / "m")
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "different commits" in result.output and "--allow-mixed" in result.output
    assert _merge(runs["1/2"], other, "--out", tmp_path / "m", "--allow-mixed").exit_code == 0
    plan = _json(runs["2/2"])["shard_plan"]
    assert plan["workers"] == 2 and plan["durations"] is None  # -n 2, no durations file
    report = _json(runs["2/2"]) | {"shard_plan": plan | {"workers": 4}}
    (other / "report.json").write_text(json.dumps(report))
    result = _merge(runs["1/2"], other, "--out", tmp_path / "m")
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "the shards were planned differently" in result.output and "same -n" in result.output


def test_a_test_that_passed_and_failed_on_one_commit_is_flagged_flaky(
    runs: dict[str, Any], tmp_path: Path
) -> None:
    history = tmp_path / "history"
    holding = next(
        s
        for s in ("1/2", "2/2")
        if any("test_flaky" in t["nodeid"] for t in _json(runs[s])["tests"])
    )
    again = tmp_path / "again"
    again.mkdir()
    failing = _run(runs["root"], again, "--harness-shard", holding, fails=True)
    outcomes = []
    for run in (runs[holding], failing):
        out = tmp_path / f"merged-{run.name}"
        result = _merge(run, "--out", out, "--history", history)
        assert result.exit_code == 0, result.output
        outcomes.append(_json(out))
    assert outcomes[0]["flaky"] == []  # one pass is nothing yet
    (flaky,) = outcomes[1]["flaky"]
    assert flaky["nodeid"] == "test_suite.py::test_flaky"
    assert flaky["reason"].startswith("passed and failed on commit ")
    assert flaky["recent"] == ["passed", "failed"]
    out = tmp_path / f"merged-{failing.name}"
    assert "### Flaky (1)" in (out / "summary.md").read_text()
    assert 'id="flaky"' in (out / "report.html").read_text()
    kept = json.loads((history / "history.json").read_text())["runs"]
    assert len(kept) == 2  # a run merged again replaces its entry


def test_durations_update_folds_the_merged_report_into_the_file(
    runs: dict[str, Any], tmp_path: Path
) -> None:
    assert _merge(runs["shards"], "--out", tmp_path / "merged").exit_code == 0
    path = tmp_path / _shards.DURATIONS_FILE
    _shards.write_durations(path, {"gone.py::test_old": 3.0})
    result = runner.invoke(
        cli.app, ["durations", "update", str(tmp_path / "merged"), "--file", str(path)]
    )
    assert result.exit_code == 0, result.output
    durations = _shards.load_durations(path)
    assert "gone.py::test_old" in durations  # kept: only what the reports say is replaced
    assert "test_suite.py::test_grouped" in durations  # without xdist's `@inner-runs`
    assert "test_suite.py::test_skipped" not in durations  # a skip says nothing of its time
    assert len(durations) == 1 + 8


def test_chromium_shows_a_lane_per_shard_and_worker(runs: dict[str, Any], tmp_path: Path) -> None:
    assert _merge(runs["shards"], "--out", tmp_path / "merged").exit_code == 0
    page = tmp_path / "merged" / "report.html"
    browser = [_chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*browser, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    merged = _json(tmp_path / "merged")
    lanes = sorted({t["worker"] for t in merged["tests"]})
    assert {lane.split()[0] for lane in lanes} == {"1/2", "2/2"}
    for lane in lanes:  # each shard's workers, each a lane of its own, named
        assert f'data-lane="{lane}"' in dom
    assert dom.count('class="test ') == 9  # every test of both shards, once
    shards = dom.index('id="shards"')
    assert dom.index('id="summary"') < shards < dom.index('id="timeline"')
    for entry in merged["shards"]:
        assert entry["run"] in dom[shards : dom.index('id="timeline"')]


CONFTEST = """
import pytest

class Faults:  # what the reports plugin reads of the harness's `faults` fixture
    def __init__(self):
        self.applied = []
        self.history = [{"layer": "http", "fault": "status", "service": "litellm", "status": 429}]

@pytest.fixture
def faults():
    return Faults()

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):  # as the harness plugin adds a failure's sections
    report = yield
    if report.failed:
        report.sections.append(("harness logs: litellm requests", "POST /v1/chat 429 answered"))
    return report
"""


def test_allure_results_carry_the_harness_sections_and_are_gathered(tmp_path: Path) -> None:
    (tmp_path / "test_suite.py").write_text(
        SUITE.replace("def test_flaky():", "def test_flaky(faults):")
    )
    (tmp_path / "conftest.py").write_text(CONFTEST)
    reports = tmp_path / "reports"
    reports.mkdir()
    for shard in ("1/2", "2/2"):
        results = tmp_path / f"allure-{shard[0]}"
        _run(tmp_path, reports, "--harness-shard", shard, f"--alluredir={results}", fails=True)
    result = _merge(reports, "--out", tmp_path / "merged")
    assert result.exit_code == 0, result.output
    gathered = tmp_path / "merged" / "allure-results"
    results = [json.loads(p.read_text()) for p in gathered.glob("*-result.json")]
    merged = _json(tmp_path / "merged")["tests"]
    # every test of both shards has its result, once (the skipped one too)
    names = sorted(plain_nodeid(t["nodeid"]).split("::")[-1] for t in merged)
    assert sorted(r["name"] for r in results) == names
    (failed,) = [r for r in results if r["status"] == "failed"]
    attached = {a["name"]: gathered / a["source"] for a in failed.get("attachments", [])}
    assert {"litellm requests", "faults"} <= set(attached), failed.get("attachments")
    assert attached["litellm requests"].read_text() == "POST /v1/chat 429 answered"
    assert json.loads(attached["faults"].read_text())[0]["status"] == 429
