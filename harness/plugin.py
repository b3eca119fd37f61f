"""How tests see the stack: the pytest plugin (registered through the `pytest11` entry point).

One stack per test run, shared by every pytest-xdist worker:

* the first worker that needs it starts it under a file lock in the xdist base temp and records it;
  the others attach to the record; a project with a `test-env` has it started (or attached)
  before collection instead, by the controller, and its variables set in every process
  (`_test_env`);
* the controller process (the only process with no `workerinput`) tears it down exactly once, in
  `pytest_sessionfinish`, after every worker has finished — on pass, failure, Ctrl-C and SIGTERM;
* after a SIGKILL, the next run reaps the leftovers by label (their owner process is gone).

Each worker gets its own slice of the shared backends: a Redis database, a Chroma tenant and
database, and a namespace header for the mocks.

This module holds the hooks and fixtures; the machinery behind them lives in private modules, one
job each: `_options` (command-line options), `_run` (run id, owner, SIGTERM, shared directory),
`_shared_stack` (start once under a lock, attach, tear down), `_backends` (a worker's view of the
stack), `_test_env` (the stack before collection), `_exclusive` (exclusive tests), `_workers`
(which xdist process this is).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from harness import (
    _backends,
    _exclusive,
    _options,
    _reached,
    _run,
    _shards,
    _shared_stack,
    _test_env,
    _workers,
)
from harness import _config as harness_config
from harness._backends import NAMESPACE_HEADER, ServiceUnderTest, WorkerBackends
from harness._errors import HarnessError
from harness._journal import Journal
from harness._optional import fixture_require
from harness._prometheus import Prometheus
from harness._stack import Stack
from harness._state import attached_project
from harness.faults import FaultError, Faults
from harness.reports._instrument import httpx_hooks, observe_chroma, observe_redis

__all__ = [
    "FIXTURE_SERVICES",
    "LITELLM_MASTER_KEY",
    "NAMESPACE_HEADER",
    "ServiceUnderTest",
    "WorkerBackends",
]

LITELLM_MASTER_KEY = os.environ.get("HARNESS_LITELLM_MASTER_KEY", "sk-harness-master")

# Which fixture reaches which service: a failing test gets the logs of those it used.
FIXTURE_SERVICES = {
    "redis_client": "redis",
    "chroma_client": "chromadb",
    "openai_client": "litellm",
    "comfyui_url": "comfyui",
    "wan2gp_url": "wan2gp",
    "cablecast_url": "cablecast",
    "prometheus": "prometheus",
}

# This process's stack and backends, for the failure report's logs.
ACTIVE_STACK = pytest.StashKey[Stack]()
ACTIVE_BACKENDS = pytest.StashKey[WorkerBackends]()


def pytest_addoption(parser: pytest.Parser) -> None:
    _options.add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from harness import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # The project's `test-env`, before tests/conftest.py (and the app it imports) is loaded.
    _test_env.prepare(early_config)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "exclusive_stack: run this test alone on the shared stack (no other worker runs a test "
        "meanwhile), so kernel and container faults on shared services are allowed",
    )
    try:  # the project's seed, image overrides, reports dir: as env, which the stack reads
        project = harness_config.current_or_none(config.rootpath)
    except HarnessError as error:
        raise pytest.UsageError(str(error)) from None
    if project is not None:
        os.environ.update(project.environment())
    _configure_shard(config)
    if _workers.is_worker(config):
        return
    # The controller owns the run; workers inherit these when xdist spawns them.
    _run.begin(config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    shard = config.stash.get(SHARD, None)
    if shard is not None and session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        if not _workers.is_worker(config):  # an empty shard is a passing one, and says so
            _say(config, f"mediastack-harness: shard {shard} has no tests: nothing to run")
        session.exitstatus = pytest.ExitCode.OK
    if _workers.is_worker(config) or config.getoption("attach_stack"):
        return
    try:
        _shared_stack.tear_down(_run.shared_dir(config), keep=config.getoption("keep_stack"))
    except HarnessError as error:  # one line beside the tests' own errors, the summary intact
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"mediastack-harness: teardown: {error}", red=True)
        session.exitstatus = session.exitstatus or pytest.ExitCode.TESTS_FAILED
    _run.forget_early(config)  # the shared directory test-env made, if any


def _say(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(line)


def pytest_report_header(config: pytest.Config) -> str | None:
    if _workers.is_worker(config):
        return None
    header = f"mediastack-harness: run {os.environ.get('HARNESS_RUN_ID')}"
    shard = config.stash.get(SHARD, None)
    if shard is not None:
        header += f", shard {shard}"
    names = config.stash.get(_test_env.NAMES, None)
    return f"{header}; test-env sets {', '.join(names)}" if names else header


# -- the shared stack ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def harness_run(pytestconfig: pytest.Config) -> str:
    """The run id: the compose project name and the label on everything the run creates."""
    attach = pytestconfig.getoption("attach_stack")
    return attached_project(attach) if attach else _run.run_id(pytestconfig)


@pytest.fixture(scope="session")
def stack(pytestconfig: pytest.Config, harness_run: str) -> Stack:
    """The run's stack, started once for all xdist workers and healthy."""
    early = pytestconfig.stash.get(_test_env.STACK, None)
    settings = _options.settings(pytestconfig)
    if early is not None:  # reached before collection, for the project's test-env
        started = early
    elif settings.attach:
        started = _shared_stack.attach(harness_run, settings.services)
    else:
        started = _shared_stack.start_once(
            _run.shared_dir(pytestconfig),
            harness_run,
            _run.owner(),
            settings.services,
            settings.health_timeout,
            _workers.worker_count(pytestconfig),
        )
    pytestconfig.stash[ACTIVE_STACK] = started
    return started


# -- per-worker clients -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def harness_namespace(harness_run: str, worker_id: str) -> str:
    """This worker's namespace on the shared stack (mock header, Chroma tenant, key prefix)."""
    return f"{harness_run}-{worker_id}"


@pytest.fixture(scope="session")
def backends(
    request: pytest.FixtureRequest, stack: Stack, harness_namespace: str, worker_id: str
) -> Iterator[WorkerBackends]:
    """`backends.address("redis")`: this worker's proxy address for a backend."""
    worker = request.config.stash.get(_test_env.BACKENDS, None)  # test-env's, made early
    if worker is None:
        worker = WorkerBackends(stack, harness_namespace, request.config.hook, worker_id)
    request.config.stash[ACTIVE_BACKENDS] = worker
    yield worker
    _backends.release(worker)  # leave nothing behind on a long-lived (attached) stack


@pytest.fixture
def redis_client(backends: WorkerBackends, worker_id: str) -> Iterator[Any]:
    """redis-py client on this worker's own database, emptied before the test."""
    redis = fixture_require("redis", "redis", "redis_client")

    address = backends.address("redis")
    database = 1 + _workers.worker_index(worker_id) % 63
    client = observe_redis(redis.Redis(host=address.host, port=address.port, db=database))
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def chroma_client(backends: WorkerBackends, harness_namespace: str) -> Any:
    """`chromadb.HttpClient` on this worker's own tenant and database (pass embeddings)."""
    chromadb = fixture_require("chromadb", "chroma", "chroma_client")
    ChromaSettings = fixture_require("chromadb.config", "chroma", "chroma_client").Settings

    address = backends.address("chromadb")
    admin = chromadb.AdminClient(
        ChromaSettings(
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
            chroma_server_host=address.host,
            chroma_server_http_port=address.port,
            anonymized_telemetry=False,
        )
    )
    # Either may exist already: an attached stack an earlier run used, or another client of this
    # worker's tenant (a system under test) that created the tenant first.
    for create in (
        lambda: admin.create_tenant(harness_namespace),
        lambda: admin.create_database("tests", tenant=harness_namespace),
    ):
        try:
            create()
        except Exception as error:
            if "already exists" not in str(error).lower():
                raise
    client = chromadb.HttpClient(
        host=address.host,
        port=address.port,
        tenant=harness_namespace,
        database="tests",
        settings=ChromaSettings(anonymized_telemetry=False),
    )
    return observe_chroma(client)


@pytest.fixture(scope="session")
def openai_client(backends: WorkerBackends) -> Any:
    """The `openai` client on the LiteLLM proxy (models `mock-gpt`, `mock-embed`)."""
    openai = fixture_require("openai", "openai", "openai_client")

    return openai.OpenAI(
        base_url=f"{backends.address('litellm').url}/v1",
        api_key=LITELLM_MASTER_KEY,
        max_retries=0,
        http_client=openai.DefaultHttpxClient(event_hooks=httpx_hooks("litellm")),
    )


@pytest.fixture(scope="session")
def comfyui_url(backends: WorkerBackends) -> str:
    """Base URL of the ComfyUI mock."""
    return backends.address("comfyui").url


@pytest.fixture(scope="session")
def wan2gp_url(backends: WorkerBackends) -> str:
    """Base URL of the Wan2GP mock (a Gradio app)."""
    return backends.address("wan2gp").url


@pytest.fixture(scope="session")
def cablecast_url(backends: WorkerBackends) -> str:
    """Base URL of the Cablecast stub (its API lives under /cablecastapi/v1/)."""
    return backends.address("cablecast").url


@pytest.fixture(scope="session")
def prometheus(backends: WorkerBackends, harness_namespace: str) -> Iterator[Prometheus]:
    """`harness._prometheus.Prometheus` on this worker's proxy in front of the stack's Prometheus
    (list "prometheus" in `backends`): query, query_range, wait_for_alert, wait_for_sample."""
    client = Prometheus(
        backends.address("prometheus").url,
        run=backends.stack.project,
        namespace=harness_namespace,
        reach=backends.stack.from_containers,
    )
    yield client
    client.close()


@pytest.fixture
def under_test(backends: WorkerBackends) -> Callable[[str], ServiceUnderTest]:
    """`under_test("api")`: a service under test the project declares, its URL and logs."""

    def reach(name: str) -> ServiceUnderTest:
        backends.stack.topology.service_under_test(name)
        return ServiceUnderTest(name, backends.address(name), backends.stack)

    return reach


@pytest.fixture
def mock_http(
    backends: WorkerBackends, harness_namespace: str
) -> Iterator[Callable[[str], httpx.Client]]:
    """`mock_http("comfyui")`: an httpx client on that mock, in this worker's namespace."""
    with ExitStack() as clients:

        def open_client(service: str) -> httpx.Client:
            return clients.enter_context(
                httpx.Client(
                    base_url=backends.address(service).url,
                    headers={NAMESPACE_HEADER: harness_namespace},
                    timeout=30,
                    event_hooks=httpx_hooks(service),
                )
            )

        yield open_client


@pytest.fixture
def isolated_service(harness_run: str) -> Iterator[Callable[..., Any]]:
    """`isolated_service("redis")`: a throwaway container of that service, removed after the test.

    Built from the same compose definition as the shared stack's service; safe to kill.
    """
    from harness._containers import isolated

    with ExitStack() as started:

        def start(service: str, timeout: float = 120.0) -> Any:
            return started.enter_context(isolated(service, harness_run, timeout=timeout))

        yield start


# -- faults ------------------------------------------------------------------------------------
@pytest.fixture
def faults(
    request: pytest.FixtureRequest, stack: Stack, harness_namespace: str
) -> Iterator[Faults]:
    """The fault API for this test, on this worker's proxies; everything reverted at the end.

    Kernel and container faults on the shared stack would hit every xdist worker: they need
    `@pytest.mark.exclusive_stack` (or a single worker), or an `isolated_service(...)` target.
    """
    exclusive = request.node.get_closest_marker("exclusive_stack") is not None
    alone = exclusive or _workers.worker_count(request.config) == 1

    def shared_guard(layer: str, service: str) -> None:
        if not alone:
            raise FaultError(
                f"a {layer} fault on the shared stack's {service} would hit every xdist worker: "
                "mark the test @pytest.mark.exclusive_stack, "
                f"or target isolated_service({service!r})"
            )

    active = Faults(stack, harness_namespace, shared_guard=shared_guard)
    yield active
    active.clear()
    survived = active.leftovers()
    if survived:
        pytest.fail("faults survived the test: " + "; ".join(survived))


@pytest.fixture
def journal(stack: Stack, harness_namespace: str) -> Callable[[str], Journal]:
    """`journal("litellm")`: the requests this test's worker sent to an HTTP backend (or a
    service under test) since the test began, through the HTTP fault layer."""
    client = stack.http_layer.client
    marks = {name: int(route["journal"]) for name, route in client.routes().items()}

    def journal_of(service: str) -> Journal:
        stack.topology.reachable(service)
        if not stack.topology.speaks_http(service):
            raise FaultError(f"{service} does not speak HTTP: no journal keeps its requests")
        route = stack.proxy_name(service, harness_namespace)
        return Journal(client, route, marks.get(route, 0))

    return journal_of


# -- shards: this run's part of the suite -------------------------------------------------------
SHARD = pytest.StashKey[_shards.Shard]()
DURATIONS = pytest.StashKey[dict[str, float]]()


def _configure_shard(config: pytest.Config) -> None:
    """`--harness-shard I/N` and the durations it is balanced by, checked before collection."""
    spec = config.getoption("harness_shard", None)
    if not spec:
        return
    path = _shards.durations_path(config.getoption("harness_durations", None), config.rootpath)
    try:
        config.stash[SHARD] = _shards.parse(spec)
        config.stash[DURATIONS] = _shards.load_durations(path)
    except HarnessError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep this shard's tests (in an xdist worker, their ids may already end in `@group`)."""
    shard = config.stash.get(SHARD, None)
    if shard is None:
        return
    keyed = [(item.nodeid, _shard_group(item)) for item in items]
    durations: dict[str, float] = config.stash[DURATIONS]
    chosen = _shards.select(keyed, shard, durations, _workers.worker_count(config))
    dropped = [item for item in items if item.nodeid not in chosen]
    if dropped:
        items[:] = [item for item in items if item.nodeid in chosen]
        config.hook.pytest_deselected(items=dropped)


def _shard_group(item: pytest.Item) -> str:
    marker = item.get_closest_marker("xdist_group")
    group = None
    if marker is not None:
        group = str(marker.args[0] if marker.args else marker.kwargs.get("name", "default"))
    exclusive = item.get_closest_marker("exclusive_stack") is not None
    return _shards.group_key(item.nodeid, group, exclusive)


# -- exclusive tests: a fair reader/writer lock over the shared stack, across workers -----------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    if _workers.worker_count(item.config) == 1:
        return (yield)
    exclusive = item.get_closest_marker("exclusive_stack") is not None
    with _exclusive.turn(_run.shared_dir(item.config), item.nodeid, exclusive):
        return (yield)


# -- failure reports ----------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    used = getattr(item, "fixturenames", ())
    shared = item.config.stash.get(ACTIVE_STACK, None)
    if report.failed and "stack" in used and shared is not None:
        backends = item.config.stash.get(ACTIVE_BACKENDS, None)
        services = _reached.services(item, FIXTURE_SERVICES, backends)
        for service in services or shared.running_services():
            report.sections.append((f"harness logs: {service}", shared.logs(service)))
        marks = item.stash.get(JOURNAL_MARKS, None)
        if marks is not None and backends is not None:
            report.sections += _requests(shared, backends.namespace, marks)
    return report


JOURNAL_MARKS = pytest.StashKey[dict[str, int]]()  # each route's newest exchange at the call


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    shared = item.config.stash.get(ACTIVE_STACK, None)
    if shared is not None and "stack" in getattr(item, "fixturenames", ()):
        with contextlib.suppress(HarnessError):
            routes = shared.http_layer.client.routes()
            item.stash[JOURNAL_MARKS] = {name: int(r["journal"]) for name, r in routes.items()}


def _requests(stack: Stack, namespace: str, marks: dict[str, int]) -> list[tuple[str, str]]:
    """A failed test's requests to each HTTP backend through its worker's routes, one line each
    (as report sections, beside the services' logs)."""
    sections = []
    with contextlib.suppress(HarnessError):
        client = stack.http_layer.client
        for name in client.routes():
            service, _, owner = name.partition("--")
            if owner != namespace:
                continue
            journal = Journal(client, name, marks.get(name, 0)).entries()[-200:]
            if journal:
                lines = "\n".join(exchange.line() for exchange in journal)
                sections.append((f"harness logs: {service} requests", lines))
    return sections
