"""The reports pytest plugin (second `pytest11` entry point).

Every test process times the plugin clients' backend operations and attaches them, with the
faults the test applied, to the test's teardown report (`user_properties`), so they travel to
the xdist controller with the report. The controller alone samples the run's containers and
writes `reports/<run-id>/` at the end of the session — only in a project with a harness
configuration: elsewhere (a venv that merely has the package) a run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from harness import _config, _events, _workers, reports
from harness._errors import HarnessError
from harness._state import attached_project
from harness.reports import _allure as allure
from harness.reports import _resources as resources
from harness.reports import _writer as writer
from harness.reports._collect import PROPERTY, RunCollector
from harness.reports._latency import RECORDER

EVENTS_FILE = "events.jsonl"
FAULTS = pytest.StashKey[Any]()
# The run's state in the controller: the event log set aside while this run's is in use (None:
# there was none), the collector of test reports, the container sampler.
OUTER_EVENTS = pytest.StashKey[str | None]()
COLLECTOR = pytest.StashKey[RunCollector]()
SAMPLER = pytest.StashKey[resources.ResourceSampler]()
_COLLECTING = "mediastack-harness-reports-collecting"  # the controller's collecting plugin


def _configured(config: pytest.Config) -> bool:
    """Whether the run writes a report: asked for with `--harness-reports`, or in a project with
    a harness configuration (a bad one counts: the harness plugin reports it)."""
    if config.getoption("harness_reports"):
        return True
    try:
        return _config.current_or_none(config.rootpath) is not None
    except HarnessError:
        return True


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mediastack-harness")
    group.addoption(
        "--harness-reports",
        default=None,
        metavar="DIR",
        help="where run reports go, one directory per run (default: env HARNESS_REPORTS_DIR, "
        "else reports/ in the project)",
    )
    group.addoption(
        "--harness-sample-interval",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="how often the run's containers' CPU and memory are sampled (default 2)",
    )


def _sampled_project(config: pytest.Config, run: str) -> str:
    attach = config.getoption("attach_stack", None)
    if not attach:
        return run
    try:
        return attached_project(attach)
    except Exception:
        return run


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """The controller names its run's event log (an outer run's is set aside meanwhile);
    workers inherit it when xdist spawns them."""
    run = os.environ.get("HARNESS_RUN_ID")
    if _workers.is_worker(config) or not run or not _configured(config):
        return
    directory = reports.reports_dir(config.getoption("harness_reports")) / run
    with contextlib.suppress(OSError):
        directory.mkdir(parents=True, exist_ok=True)
        config.stash[OUTER_EVENTS] = os.environ.get(_events.ENV)
        os.environ[_events.ENV] = str(directory / EVENTS_FILE)


def pytest_unconfigure(config: pytest.Config) -> None:
    if OUTER_EVENTS in config.stash:
        outer = config.stash[OUTER_EVENTS]
        del config.stash[OUTER_EVENTS]
        if outer is None:
            os.environ.pop(_events.ENV, None)
        else:
            os.environ[_events.ENV] = outer


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if _workers.is_worker(config) or not _configured(config):
        return
    from harness._stack import new_project_name

    run = os.environ.get("HARNESS_RUN_ID") or new_project_name()
    shard = config.getoption("harness_shard", None)
    commit = _commit(config.rootpath)
    collector = config.stash[COLLECTOR] = RunCollector(run, _shard_label(shard), commit)
    if shard:
        collector.plan = _shard_plan(config)
    config.pluginmanager.register(_Collecting(collector), _COLLECTING)
    source = resources.docker_source(_sampled_project(config, run))
    interval = config.getoption("harness_sample_interval")
    config.stash[SAMPLER] = resources.ResourceSampler(source, interval).start()


def _shard_label(spec: str | None) -> str | None:
    from harness import _shards

    return str(_shards.parse(spec)) if spec else None


def _shard_plan(config: pytest.Config) -> dict[str, Any]:
    """What the shard's split was computed from, besides the tests: the xdist worker count and
    the durations file's digest (shards planned from different ones may drop tests)."""
    from harness import _shards

    try:
        workers = len(config.getoption("tx") or []) or 1
    except ValueError:  # no xdist
        workers = 1
    path = _shards.durations_path(config.getoption("harness_durations", None), config.rootpath)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else None
    return {"workers": workers, "durations": digest}


def _commit(root: Path) -> str | None:
    """The commit the run tested: GITHUB_SHA in a GitHub job, else the checkout's HEAD."""
    if os.environ.get("GITHUB_SHA"):
        return os.environ["GITHUB_SHA"]
    try:
        found = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None if found.returncode == 0 else None


# -- every test process: latency samples and faults of the running test ----------------------
def _faults_of(item: pytest.Item) -> Any:
    found = item.stash.get(FAULTS, None)
    if found is None:
        found = (getattr(item, "funcargs", None) or {}).get("faults")
        if found is not None and hasattr(found, "history"):
            item.stash[FAULTS] = found
        else:
            found = None
    return found


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    def faulted() -> bool:
        faults = _faults_of(item)
        return bool(faults and any(f.active for f in faults.applied))

    RECORDER.begin(faulted)


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: the harness's sections are in
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    faults = _faults_of(item)
    if report.failed and allure.results_dir(item.config) is not None:
        allure.attach(report, _plain(list(faults.history)) if faults is not None else [])
    if call.when == "teardown":
        history = list(faults.history) if faults is not None else []
        data = {"faults": _plain(history), "samples": RECORDER.drain()}
        report.user_properties.append((PROPERTY, data))
        RECORDER.begin()
    return report


def _plain(value: Any) -> Any:
    """Fault descriptions as JSON-safe data (they cross the xdist channel)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


# -- the controller: collect, then write ------------------------------------------------------
def _take(config: pytest.Config, key: pytest.StashKey[Any]) -> Any:
    """The stashed value of `key` (None if unset), removed from the stash."""
    value = config.stash.get(key, None)
    if key in config.stash:
        del config.stash[key]
    return value


class _Collecting:
    """Hands every test report the controller receives to the run's collector (registered for
    the session)."""

    def __init__(self, collector: RunCollector) -> None:
        self.collector = collector

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.collector.add(report)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    collector: RunCollector | None = _take(config, COLLECTOR)
    sampler: resources.ResourceSampler | None = _take(config, SAMPLER)
    if config.pluginmanager.has_plugin(_COLLECTING):
        config.pluginmanager.unregister(name=_COLLECTING)
    if _workers.is_worker(config) or collector is None:
        return
    sampled = sampler.stop() if sampler else {}
    if not collector.tests:
        return
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    directory = reports.reports_dir(config.getoption("harness_reports")) / collector.run

    def say(line: str) -> None:
        if terminal is not None:
            terminal.ensure_newline()
            terminal.write_line(line)
        else:
            print(line)

    try:
        events = _events.read(Path(os.environ.get(_events.ENV) or directory / EVENTS_FILE))
        report = collector.build(resources.summarise(sampled), events)
        problems = writer.write_all(directory, report, collector.failure_logs())
        allure.keep(config, directory)
    except Exception as error:
        problems = [f"{type(error).__name__}: {error}"]
    if problems:
        why = "; ".join(problems)
        say(f"mediastack-harness: WARNING: reports incomplete in {directory}: {why}")
    else:
        say(f"mediastack-harness: reports in {directory}")
