"""How tests see the stack: the pytest plugin (registered through the `pytest11` entry point).

One stack per test run, shared by every pytest-xdist worker:

* the first worker that needs it starts it under a file lock in the xdist base temp and records it;
  the others attach to the record;
* the controller process (the only process with no `workerinput`) tears it down exactly once, in
  `pytest_sessionfinish`, after every worker has finished — on pass, failure, Ctrl-C and SIGTERM;
* after a SIGKILL, the next run reaps the leftovers by label (their owner process is gone).

Each worker gets its own slice of the shared backends: a Redis database, a Chroma tenant and
database, and a namespace header for the mocks.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from filelock import FileLock

from harness import _events, _labels, _reached, reaper, topology
from harness import config as harness_config
from harness.errors import HarnessError
from harness.faults import FaultError, Faults
from harness.prometheus import Prometheus
from harness.reports.instrument import httpx_hooks, observe_chroma, observe_redis
from harness.stack import Address, Stack, new_project_name

NAMESPACE_HEADER = "X-Harness-Namespace"
STATE_FILE = "harness-stack.json"
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


@dataclass(frozen=True)
class Settings:
    """The plugin's command-line options."""

    services: tuple[str, ...]
    keep: bool
    attach: str | None
    health_timeout: float


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mediastack-harness")
    group.addoption(
        "--stack-services",
        default=os.environ.get("HARNESS_SERVICES", ""),
        help="comma-separated services to start (default: all; env HARNESS_SERVICES)",
    )
    group.addoption(
        "--keep-stack", action="store_true", help="leave the stack running after the run"
    )
    group.addoption(
        "--attach-stack",
        nargs="?",
        const="@up",
        default=None,
        metavar="PROJECT",
        help="use a running stack (default: the one `harness up` / `make up` started)",
    )
    group.addoption(
        "--health-timeout",
        type=float,
        default=None,
        help="seconds to wait for healthy services (default: the project's health-timeout)",
    )


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from harness import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def _config_problem() -> str | None:
    try:
        harness_config.current()
    except HarnessError as error:
        return str(error)
    return None


def _settings(config: pytest.Config) -> Settings:
    problem = _config_problem()
    if problem:  # no configuration (or a bad one): one line, naming the fix
        pytest.fail(problem, pytrace=False)
    project = harness_config.current()
    services = tuple(s.strip() for s in config.getoption("stack_services").split(",") if s.strip())
    topology.load().select(services)  # unknown names fail here, listing the known ones
    timeout = config.getoption("health_timeout")
    return Settings(
        services=services,
        keep=config.getoption("keep_stack"),
        attach=config.getoption("attach_stack"),
        health_timeout=project.config.health_timeout if timeout is None else timeout,
    )


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _run_id(config: pytest.Config) -> str:
    """The run's compose project: from PYTEST_XDIST_TESTRUNUID (same in every worker) or fresh."""
    if _is_worker(config):
        return os.environ["HARNESS_RUN_ID"]
    uid = getattr(config.option, "testrunuid", None)
    return new_project_name(uid)


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
    if _is_worker(config):
        return
    # The controller owns the run; workers inherit these when xdist spawns them.
    if getattr(config.option, "testrunuid", "missing") is None:
        config.option.testrunuid = os.urandom(16).hex()
    os.environ["HARNESS_RUN_ID"] = _run_id(config)
    os.environ["HARNESS_OWNER"] = _labels.owner_token()
    if config.getoption("keep_stack"):
        os.environ["HARNESS_OWNER"] = _labels.KEPT
    previous = signal.getsignal(signal.SIGTERM)

    def _terminate(signum: int, frame: Any) -> None:  # SIGTERM takes the Ctrl-C path
        signal.signal(signal.SIGTERM, previous)
        raise KeyboardInterrupt(f"signal {signum}")

    if previous in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _terminate)


def _shared_dir(config: pytest.Config) -> Path:
    basetemp = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    return basetemp.parent if _is_worker(config) else basetemp


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if _is_worker(config) or config.getoption("attach_stack"):
        return
    state = _shared_dir(config) / STATE_FILE
    if not state.exists():
        return
    record = json.loads(state.read_text())
    if config.getoption("keep_stack") and not record.get("error"):
        run = record["project"]
        print(f"\nmediastack-harness: stack {run} kept; attach with --attach-stack {run}")
        return
    Stack(record["project"]).down()


def pytest_report_header(config: pytest.Config) -> str | None:
    if _is_worker(config):
        return None
    return f"mediastack-harness: run {os.environ.get('HARNESS_RUN_ID')}"


# -- the shared stack ------------------------------------------------------------------------
_ACTIVE: dict[str, Any] = {}  # this process's stack and backends


def _attached_project(value: str) -> str:
    if value != "@up":
        return value
    from harness._state import read_up_record

    return read_up_record()["project"]


@pytest.fixture(scope="session")
def harness_run(pytestconfig: pytest.Config) -> str:
    """The run id: the compose project name and the label on everything the run creates."""
    attach = pytestconfig.getoption("attach_stack")
    return _attached_project(attach) if attach else _run_id(pytestconfig)


@pytest.fixture(scope="session")
def stack(pytestconfig: pytest.Config, harness_run: str) -> Stack:
    """The run's stack, started once for all xdist workers and healthy."""
    settings = _settings(pytestconfig)
    if settings.attach:
        attached = Stack(harness_run)
        wanted = [s.name for s in attached.topology.select(settings.services)]
        missing = sorted(set(wanted) - set(attached.running_services()))
        if missing:
            pytest.fail(
                f"stack {harness_run} has no running {', '.join(missing)}: `harness up` first"
            )
        _ACTIVE["stack"] = attached
        return attached
    shared = _shared_dir(pytestconfig)
    owner = os.environ.get("HARNESS_OWNER", _labels.owner_token())
    started = Stack(harness_run, owner=owner)
    with FileLock(str(shared / "harness-stack.lock")):
        state = shared / STATE_FILE
        if state.exists():
            record = json.loads(state.read_text())
            if record.get("error"):
                pytest.fail(f"the stack failed to start in another worker: {record['error']}")
        else:
            try:
                names = started.up(settings.services, timeout=settings.health_timeout)
            except HarnessError as error:
                state.write_text(json.dumps({"project": harness_run, "error": str(error)}))
                raise
            state.write_text(json.dumps({"project": harness_run, "services": names}))
    _ACTIVE["stack"] = started
    return started


# -- per-worker clients -----------------------------------------------------------------------
def _worker_index(worker_id: str) -> int:
    return int(worker_id[2:]) if worker_id.startswith("gw") else 0


@pytest.fixture(scope="session")
def harness_namespace(harness_run: str, worker_id: str) -> str:
    """This worker's namespace on the shared stack (mock header, Chroma tenant, key prefix)."""
    return f"{harness_run}-{worker_id}"


class WorkerBackends:
    """The shared stack as one worker sees it: its own Toxiproxy proxy in front of each backend
    and each service under test."""

    def __init__(
        self, stack: Stack, namespace: str, hook: Any = None, worker_id: str = "master"
    ) -> None:
        self.stack, self.namespace, self.worker_id = stack, namespace, worker_id
        self._hook = hook
        self._addresses: dict[str, Address] = {}
        self.isolation: dict[str, Any] = {}  # what `pytest_harness_isolate_backend` returned
        self.reached: dict[str, set[str]] = {}  # test node id -> services it asked for

    def address(self, service: str) -> Address:
        """This worker's client-facing address of `service` (faults here touch no other worker)."""
        self.reached.setdefault(_reached.current_test(), set()).add(service)
        if service not in self._addresses:
            self.stack.topology.reachable(service)
            self._addresses.update(self.stack.ensure_proxies([service], self.namespace))
            own = service in self.stack.topology.services and self.stack.topology.get(service).own
            if own and self._hook is not None:
                self.isolation[service] = self._hook.pytest_harness_isolate_backend(
                    name=service,
                    address=self._addresses[service],
                    namespace=self.namespace,
                    worker_id=self.worker_id,
                )
        return self._addresses[service]

    def handed_out(self) -> list[str]:
        """Every service this worker has a proxy address of."""
        return sorted(self._addresses)


@dataclass(frozen=True)
class ServiceUnderTest:
    """A service under test as this worker reaches it: through a proxy of the worker's own, so
    TCP faults on it (`faults.latency("api", 200)`) touch no other worker."""

    name: str
    address: Address
    stack: Stack

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>` of this worker's proxy in front of it."""
        return self.address.url

    def logs(self, tail: int = 50) -> str:
        """Its last output lines (a process's, or its container's)."""
        return self.stack.logs(self.name, tail)


@pytest.fixture(scope="session")
def backends(
    request: pytest.FixtureRequest, stack: Stack, harness_namespace: str, worker_id: str
) -> Iterator[WorkerBackends]:
    """`backends.address("redis")`: this worker's proxy address for a backend."""
    worker = WorkerBackends(stack, harness_namespace, request.config.hook, worker_id)
    _ACTIVE["backends"] = worker
    yield worker
    for service in worker._addresses:  # leave nothing behind on a long-lived (attached) stack
        with contextlib.suppress(HarnessError):
            stack.toxiproxy.delete(stack.proxy_name(service, harness_namespace))
            _events.emit("proxy deleted", proxy=stack.proxy_name(service, harness_namespace))


@pytest.fixture
def redis_client(backends: WorkerBackends, worker_id: str) -> Iterator[Any]:
    """redis-py client on this worker's own database, emptied before the test."""
    import redis

    address = backends.address("redis")
    database = 1 + _worker_index(worker_id) % 63
    client = observe_redis(redis.Redis(host=address.host, port=address.port, db=database))
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def chroma_client(backends: WorkerBackends, harness_namespace: str) -> Any:
    """`chromadb.HttpClient` on this worker's own tenant and database (pass embeddings)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

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
    import openai

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
    """`harness.prometheus.Prometheus` on this worker's proxy in front of the stack's Prometheus
    (list "prometheus" in `backends`): query, query_range, wait_for_alert, wait_for_sample."""
    client = Prometheus(
        backends.address("prometheus").url, run=backends.stack.project, namespace=harness_namespace
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
    from harness.containers import isolated

    with ExitStack() as started:

        def start(service: str, timeout: float = 120.0) -> Any:
            return started.enter_context(isolated(service, harness_run, timeout=timeout))

        yield start


# -- faults ------------------------------------------------------------------------------------
def _xdist_workers(config: pytest.Config) -> int:
    workerinput = getattr(config, "workerinput", None)
    return int(workerinput["workercount"]) if workerinput else 1


@pytest.fixture
def faults(
    request: pytest.FixtureRequest, stack: Stack, harness_namespace: str
) -> Iterator[Faults]:
    """The fault API for this test, on this worker's proxies; everything reverted at the end.

    Kernel and container faults on the shared stack would hit every xdist worker: they need
    `@pytest.mark.exclusive_stack` (or a single worker), or an `isolated_service(...)` target.
    """
    exclusive = request.node.get_closest_marker("exclusive_stack") is not None
    alone = exclusive or _xdist_workers(request.config) == 1

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


# -- exclusive tests: a fair reader/writer lock over the shared stack, across workers -----------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    if _xdist_workers(item.config) == 1:
        return (yield)
    shared = _shared_dir(item.config)
    exclusive = item.get_closest_marker("exclusive_stack") is not None
    with (
        open(shared / "harness-turnstile.lock", "a") as turnstile,
        open(shared / "harness-exclusive.lock", "a") as stack_lock,
    ):
        fcntl.flock(turnstile, fcntl.LOCK_EX)  # a waiting exclusive test blocks new shared ones
        fcntl.flock(stack_lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        fcntl.flock(turnstile, fcntl.LOCK_UN)
        if exclusive:
            _events.emit("exclusive entered", test=item.nodeid)
        try:
            return (yield)
        finally:
            if exclusive:
                _events.emit("exclusive left", test=item.nodeid)
            fcntl.flock(stack_lock, fcntl.LOCK_UN)


# -- failure reports ----------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    used = getattr(item, "fixturenames", ())
    if report.failed and "stack" in used and "stack" in _ACTIVE:
        shared = _ACTIVE["stack"]
        services = _reached.services(item, FIXTURE_SERVICES, _ACTIVE.get("backends"))
        for service in services or shared.running_services():
            report.sections.append((f"harness logs: {service}", shared.logs(service)))
    return report


def leftovers_of(run: str) -> dict[str, list[str]]:
    """Whatever still carries the run's label (for teardown tests)."""
    return reaper.leftovers(run)
