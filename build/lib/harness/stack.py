"""How the stack is started: one compose project per run, up to healthy, addresses, logs, down."""

from __future__ import annotations

import re
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from docker.errors import APIError
from docker.models.containers import Container

from harness import (
    _docker,
    _events,
    _labels,
    _overlay,
    _paths,
    _process,
    _prometheus_config,
    config,
    images,
    reaper,
    topology,
)
from harness._compose import Compose
from harness._toxiproxy import ProxyExists, ToxiproxyClient
from harness.errors import HarnessError, HealthTimeout, ServiceFailed

Progress = Callable[[str, str], None]  # (service, state)
PROXY = topology.PROXY_SERVICE
PROMETHEUS = "prometheus"
PROXY_PORT_LABEL = "org.mediastack-harness.toxiproxy-port"


@dataclass(frozen=True)
class Address:
    """Where a client reaches a service: always on 127.0.0.1."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """`http://host:port`, for HTTP services."""
        return f"http://{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def new_project_name(seed: str | None = None) -> str:
    """A unique compose project name (`hx-<id>`), from `seed` when given."""
    suffix = "".join(ch for ch in (seed or secrets.token_hex(4)).lower() if ch.isalnum())
    return f"hx-{suffix[:12]}"


class Stack:
    """One compose project of the harness's services.

    >>> stack = Stack(new_project_name())
    >>> stack.up(["redis"])                 # doctest: +SKIP
    >>> stack.address("redis")              # doctest: +SKIP
    Address(host='127.0.0.1', port=49153)
    >>> stack.down()                        # doctest: +SKIP
    """

    def __init__(
        self,
        project: str,
        *,
        owner: str = _labels.KEPT,
        compose_files: Sequence[Path] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.project = project
        self.owner = owner
        self.topology = topology.load()
        files = list(compose_files or self._compose_files())
        run_env = {"HARNESS_RUN_ID": project, "HARNESS_OWNER": owner, **(env or {})}
        own = self.topology.project
        directory = own.root if own and own.compose_paths and not compose_files else None
        self.compose = Compose(project, files, run_env, directory)
        self._proxies: dict[str, Address] = {}
        self._toxiproxy: ToxiproxyClient | None = None

    def _compose_files(self) -> list[Path]:
        """The packaged stack, the project's own compose files, and the harness's overlay."""
        project = self.topology.project
        if project is None:
            return [_paths.compose_file()]
        overlay = _overlay.write(self.topology)
        return [_paths.compose_file(), *project.compose_paths, *([overlay] if overlay else [])]

    # -- lifecycle -------------------------------------------------------------------
    def up(
        self,
        services: Sequence[str] | None = None,
        *,
        under_test: Sequence[str] | None = None,
        timeout: float = 180.0,
        progress: Progress | None = None,
        cleanup_on_failure: bool = True,
    ) -> list[str]:
        """Start the backends (the project's by default) and wait until each is healthy.

        Then the project's services under test (`under_test`, all by default) start, each after
        the backends it needs, and are health-waited. On failure the error names the service and
        carries its last log lines; with `cleanup_on_failure` nothing of this project is left
        running.
        """
        names = [service.name for service in self.topology.select(services)]
        chosen = list(self.topology.under_test) if under_test is None else list(under_test)
        suts = [self.topology.service_under_test(name) for name in chosen]
        names += [need for sut in suts for need in sut.needs if need not in names]
        needed = {self.topology.get(name).image for name in names} | {self.topology.proxy_image}
        images.require(sorted(image for image in needed if image))
        reaper.reap_dead_runs()
        containers = self.containers()
        proxy = containers.get(PROXY)
        port = proxy.labels[PROXY_PORT_LABEL] if proxy else str(_free_port())
        self.compose.env["HARNESS_TOXIPROXY_PORT"] = port
        for name in names:  # a host-network backend keeps its port while its container exists
            spec = self.topology.get(name)
            if spec.host_network:
                running = containers.get(name)
                label = running.labels.get(topology.HOST_PORT_LABEL) if running else None
                self.compose.env[spec.port_var] = label or str(_free_port())
        if PROMETHEUS in names:
            written = _prometheus_config.write(self.project, self.topology.project)
            self.compose.env["HARNESS_PROMETHEUS_CONFIG_DIR"] = str(written.resolve())
        began = time.time()
        try:
            own = [name for name in names if self.topology.get(name).own]
            if own:
                self.compose.build(own)
            own_suts = [sut.name for sut in suts if not sut.is_process]
            # the services under test build while the backends start (joined, even on failure,
            # before anything else happens)
            with ThreadPoolExecutor(max_workers=1) as pool:
                building = pool.submit(self.compose.build, own_suts) if own_suts else None
                self.compose.up([PROXY, *names])
                self.wait_healthy([PROXY, *names], timeout=timeout, progress=progress, since=began)
                self.ensure_proxies(names)
                if building is not None:
                    building.result()
            for sut in suts:
                self.start_under_test(sut.name, timeout=timeout, progress=progress)
        except BaseException:
            if cleanup_on_failure:
                self.down()
            raise
        return names + [sut.name for sut in suts]

    # -- services under test ----------------------------------------------------------
    def start_under_test(
        self, name: str, *, timeout: float = 180.0, progress: Progress | None = None
    ) -> Address:
        """Start one service under test (its backends must be healthy) and wait for health.

        It reaches each backend through a proxy of its own (`<backend>--<name>`), gets its env
        templates filled in, and gets a default proxy in front of it; returns that address.
        """
        sut = self.topology.service_under_test(name)
        spec = sut.config
        port = spec.port or self._port_of(name) or _free_port()
        links = self.ensure_proxies(list(sut.needs), namespace=name)
        others = {
            other: self.address(other)
            for other in self.topology.under_test
            if other != name and other in self.running_under_test()
        }
        environment = {
            variable: config.render(template, {**others, **links}, port)
            for variable, template in spec.env.items()
        }
        began = time.time()
        if sut.is_process:
            addresses = {**others, **links}
            self._start_process(
                sut, environment, addresses, port, timeout=timeout, progress=progress
            )
        else:
            self.compose.env[sut.port_var] = str(port)
            for variable, value in environment.items():
                self.compose.env[_overlay.env_var(name, variable)] = value
            self.compose.up([name])
            if spec.health:
                self._wait_http(name, port, spec.health, timeout, self._container_exit(name))
            else:
                # its own healthcheck runs at once, not an interval after the start
                check = self._own_check(name)
                self.wait_healthy(
                    [name],
                    timeout=timeout,
                    progress=progress,
                    since=began,
                    own_checks={name: check} if check else None,
                )
        self._proxies.pop(name, None)
        self._scrape(name)
        return self.address(name)

    def _scrape(self, name: str) -> None:
        """Have this run's Prometheus scrape a service under test its project lists in
        `[prometheus] targets`, through a proxy of its own (`<name>--prometheus`)."""
        project = self.topology.project
        if project is None or name not in self.scrape_targets():
            return
        link = self.ensure_proxies([name], namespace=PROMETHEUS)[name]
        labels = {"job": name, "__metrics_path__": project.config.prometheus.metrics_path}
        _prometheus_config.write_target(self.project, name, str(link), labels)

    def has_prometheus(self) -> bool:
        """Whether Prometheus is part of this stack (its run configuration was written)."""
        return (
            _prometheus_config.directory(self.project) / _prometheus_config.CONFIG_FILE
        ).exists()

    def scrape_targets(self) -> list[str]:
        """The services under test this stack's Prometheus scrapes (none without Prometheus)."""
        project = self.topology.project
        if project is None or not self.has_prometheus():
            return []
        return list(project.config.prometheus.targets)

    def check_link(self, service: str, via: str) -> None:
        """Fail unless `via` reaches `service` through a proxy of its own, `<service>--<via>`:
        a service under test reaching a backend, or Prometheus scraping a service under test."""
        if via != PROMETHEUS or via in self.topology.under_test:
            self.topology.service_under_test(via)
        elif not self.has_prometheus():
            raise HarnessError(
                f"no Prometheus in stack {self.project} to scrape {service}: "
                f'list "{PROMETHEUS}" in `backends` and {service} in [prometheus] targets'
            )
        elif service not in self.scrape_targets():
            scraped = ", ".join(self.scrape_targets()) or "none"
            raise HarnessError(
                f"Prometheus does not scrape {service} (its targets: {scraped}): "
                "list it in [prometheus] targets"
            )

    def _port_of(self, name: str) -> int | None:
        """The port a service under test had, so a restart keeps it (its proxies stay right)."""
        try:
            return self._under_test_address(name).port
        except (HarnessError, KeyError, ValueError):
            return None

    def _start_process(
        self,
        sut: topology.UnderTest,
        environment: dict[str, str],
        addresses: dict[str, Address],
        port: int,
        *,
        timeout: float,
        progress: Progress | None,
    ) -> None:
        process = self.process(sut.name)
        project = self.topology.project
        root = project.root if project else Path.cwd()
        command = [config.render(arg, addresses, port) for arg in sut.config.command or []]
        process.start(
            command, root / sut.config.cwd, environment, port, kept=self.owner == _labels.KEPT
        )
        if progress:
            progress(sut.name, "starting")

        def exited() -> str | None:
            code = process.exit_code()
            if code is None:
                return None
            return f"exited with code {code} at start"

        self._wait_http(sut.name, port, sut.config.health or "/", timeout, exited)
        if progress:
            progress(sut.name, "healthy")

    def _container_exit(self, name: str) -> Callable[[], str | None]:
        def exited() -> str | None:
            state = self._health_states().get(name, "missing")
            return f"container {state}" if state in ("exited", "dead") else None

        return exited

    def _wait_http(
        self,
        name: str,
        port: int,
        path: str,
        timeout: float,
        exited: Callable[[], str | None],
    ) -> None:
        """Poll `GET http://127.0.0.1:port/path` until 2xx; fail at once when it exits."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        with httpx.Client(timeout=2) as client:
            while True:
                ended = exited()
                if ended:
                    raise ServiceFailed(f"service {name} {ended}\n{self._tail(name)}")
                try:
                    answer = client.get(f"http://127.0.0.1:{port}{path}")
                    if answer.is_success:
                        return
                    last = f"GET {path} answered {answer.status_code}"
                except httpx.TransportError as error:
                    last = f"GET {path}: {type(error).__name__}"
                if time.monotonic() > deadline:
                    raise ServiceFailed(
                        f"service {name} not healthy after {timeout:.0f} s ({last}; "
                        f"raise health-timeout)\n{self._tail(name)}"
                    )
                time.sleep(0.1)

    def _tail(self, name: str) -> str:
        return f"--- last log lines of {name} ---\n{self.logs(name, 20).rstrip()}"

    def process(self, name: str) -> _process.HostProcess:
        """The host process of a service under test declared with a `command`."""
        return _process.HostProcess(self.project, name)

    def running_under_test(self) -> list[str]:
        """Services under test that are up (process alive, or container running)."""
        containers = self.containers()
        up = []
        for name, sut in self.topology.under_test.items():
            if sut.is_process:
                if self.process(name).alive():
                    up.append(name)
            elif name in containers and containers[name].status == "running":
                up.append(name)
        return up

    def wait_healthy(
        self,
        services: Sequence[str],
        *,
        timeout: float = 180.0,
        progress: Progress | None = None,
        since: float | None = None,
        own_checks: Mapping[str, Callable[[], bool]] | None = None,
    ) -> None:
        """Poll Docker's health status of each service until all are healthy or the deadline;
        a service still `starting` whose check in `own_checks` passes counts as healthy.

        Fails at once when a container stops or disappears; every failure carries the services'
        last log lines and Docker's events for the project since `since` (default: now).
        """
        since = time.time() if since is None else since
        deadline = time.monotonic() + timeout
        pending = set(services)
        reported: dict[str, str] = {}
        while pending:
            states = self._health_states()
            for name in sorted(pending):
                state = states.get(name, "missing")
                check = (own_checks or {}).get(name)
                if state == "starting" and check is not None and check():
                    state = "healthy"
                if reported.get(name) != state:
                    _events.emit("health", service=name, state=state)
                    if progress:
                        progress(name, state)
                if state == "healthy":
                    pending.discard(name)
                elif state in ("exited", "dead"):
                    raise self._unhealthy(
                        f"service {name} stopped before becoming healthy ({state})", [name], since
                    )
                elif state == "missing" and reported.get(name, "missing") != "missing":
                    raise self._unhealthy(
                        f"service {name}'s container was removed before it became healthy "
                        "(by another process: see the container events)",
                        [name],
                        since,
                    )
                reported[name] = state
            if pending and time.monotonic() > deadline:
                late = sorted(pending)
                names = ", ".join(f"{name} ({states.get(name, 'missing')})" for name in late)
                raise self._unhealthy(
                    f"service(s) {names} not healthy after {timeout:.0f} s "
                    "(raise it with --health-timeout)",
                    late,
                    since,
                )
            if pending:
                time.sleep(0.1)  # one sparse list call a poll: cheap

    def _own_check(self, name: str) -> Callable[[], bool] | None:
        """The container's own healthcheck, run by the harness (docker exec, as Docker runs
        it): True when it passes. None without a CMD / CMD-SHELL healthcheck."""
        container = self.containers().get(name)
        if container is None:
            return None
        test = list((container.attrs["Config"].get("Healthcheck") or {}).get("Test") or [])
        if test[:1] == ["CMD"]:
            command = test[1:]
        elif test[:1] == ["CMD-SHELL"] and len(test) == 2:
            command = ["/bin/sh", "-c", test[1]]
        else:
            return None

        def passes() -> bool:
            try:
                return bool(container.exec_run(command).exit_code == 0)
            except APIError:  # stopped meanwhile: Docker's state says so at the next poll
                return False

        return passes

    def _unhealthy(self, message: str, services: list[str], since: float) -> HealthTimeout:
        return HealthTimeout(
            message, {name: self.logs(name) for name in services}, self.container_events(since)
        )

    def container_events(self, since: float, limit: int = 60) -> list[str]:
        """What Docker did to this project's containers since `since` (lifecycle, not execs)."""
        stream = _docker.client().events(
            since=int(since) - 1,
            until=int(time.time()) + 1,
            decode=True,
            filters={"type": "container", "label": f"{_labels.PROJECT}={self.project}"},
        )
        lines = []
        for event in stream:
            action = str(event.get("Action", ""))
            if action.startswith("exec_"):  # health checks: one per second per service
                continue
            attributes = (event.get("Actor") or {}).get("Attributes") or {}
            service = attributes.get(_labels.SERVICE) or attributes.get("name", "?")
            when = time.strftime("%H:%M:%S", time.localtime(int(event.get("time", 0))))
            lines.append(f"{when} {service} {action}")
        return lines[-limit:]

    def _health_states(self) -> dict[str, str]:
        """Every service's health from ONE sparse list call (cheap enough to poll on 2 cores)."""
        found = _docker.client().containers.list(
            all=True, sparse=True, filters={"label": f"{_labels.PROJECT}={self.project}"}
        )
        states = {}
        for container in found:
            service = (container.attrs.get("Labels") or {}).get(_labels.SERVICE, "")
            state = str(container.attrs.get("State", "unknown"))
            match = _HEALTH_IN_STATUS.search(str(container.attrs.get("Status", "")))
            health = match["health"].removeprefix("health: ") if match else state
            states[service] = state if state in ("exited", "dead") else health
        return states

    def down(self) -> None:
        """Remove everything this run labeled: its processes, compose's resources and any
        isolated container."""
        try:
            _process.stop_all(self.project)
            self.compose.down()
        finally:
            reaper.remove_run(self.project)
            shutil.rmtree(_prometheus_config.directory(self.project), ignore_errors=True)
        self._proxies.clear()
        self._toxiproxy = None

    # -- inspection ------------------------------------------------------------------
    def containers(self) -> dict[str, Container]:
        """The project's containers by service name."""
        found = _docker.client().containers.list(
            all=True, filters={"label": f"{_labels.PROJECT}={self.project}"}
        )
        return {c.labels.get(_labels.SERVICE, c.name): c for c in found}

    def running_services(self) -> list[str]:
        """Services of this project whose container is running."""
        return sorted(n for n, c in self.containers().items() if c.status == "running")

    def address(self, service: str) -> Address:
        """The client-facing address of a service: its default Toxiproxy proxy on 127.0.0.1."""
        self.topology.reachable(service)
        if service not in self._proxies:
            self._proxies.update(self.ensure_proxies([service]))
        return self._proxies[service]

    def direct_address(self, service: str) -> Address:
        """The backend's own published port, bypassing the proxy (for benchmarks and repairs).

        Asked of Docker each time: a container restarted by another worker gets a new host port.
        A service under test listens on 127.0.0.1 itself (host network, or a host process).
        """
        if service in self.topology.under_test:
            return self._under_test_address(service)
        spec = self.topology.get(service)
        container = self.containers().get(service)
        if container is None or container.status != "running":
            raise HarnessError(f"service {service} is not running in stack {self.project}")
        if spec.host_network:
            return Address("127.0.0.1", int(container.labels[topology.HOST_PORT_LABEL]))
        bindings = (container.attrs["NetworkSettings"]["Ports"] or {}).get(
            f"{spec.container_port}/tcp"
        )
        if not bindings:
            raise HarnessError(f"service {service} publishes no port in stack {self.project}")
        return Address("127.0.0.1", int(bindings[0]["HostPort"]))

    def _under_test_address(self, service: str) -> Address:
        if self.topology.under_test[service].is_process:
            record = self.process(service).record
            if record is None:
                raise HarnessError(f"service {service} was not started in stack {self.project}")
            return Address("127.0.0.1", record.port)
        container = self.containers().get(service)
        if container is None:
            raise HarnessError(f"service {service} is not running in stack {self.project}")
        return Address("127.0.0.1", int(container.labels[_overlay.APP_PORT_LABEL]))

    # -- the fault proxy ---------------------------------------------------------------
    def proxy_api(self) -> Address:
        """Where this stack's Toxiproxy API listens (host network, 127.0.0.1)."""
        container = self.containers().get(PROXY)
        if container is None:
            raise HarnessError(f"stack {self.project} has no running {PROXY}")
        return Address("127.0.0.1", int(container.labels[PROXY_PORT_LABEL]))

    @property
    def toxiproxy(self) -> ToxiproxyClient:
        """A client for this stack's Toxiproxy API."""
        if self._toxiproxy is None:
            self._toxiproxy = ToxiproxyClient(self.proxy_api().url)
        return self._toxiproxy

    @staticmethod
    def proxy_name(service: str, namespace: str | None = None) -> str:
        """`redis` for the default proxy, `redis--gw0` for a worker's own."""
        return f"{service}--{namespace}" if namespace else service

    def ensure_proxies(
        self, services: Sequence[str], namespace: str | None = None
    ) -> dict[str, Address]:
        """Create (or keep) one proxy per service in `namespace`; returns their addresses.

        Safe from any number of threads and processes at once: a proxy is created with
        `POST /proxies`, and one that another caller created first is kept. (`/populate` would
        replace it, since `127.0.0.1:0` differs from its bound port, closing the listener the
        first caller was handed: the refused connections of issue 14.)
        """
        existing = self.toxiproxy.proxies()
        for service in services:
            name = self.proxy_name(service, namespace)
            if name not in existing:
                try:
                    existing[name] = self.toxiproxy.create(
                        name, "127.0.0.1:0", str(self.direct_address(service))
                    )
                    _events.emit("proxy created", proxy=name, listen=existing[name].listen)
                except ProxyExists:
                    existing[name] = self.toxiproxy.get(name)
        return {
            service: Address("127.0.0.1", existing[self.proxy_name(service, namespace)].port)
            for service in services
        }

    def sync_proxies(self) -> None:
        """Point every proxy at its backend's current port (a restarted container may move)."""
        current: dict[str, str] = {}  # one Docker lookup per service, not per proxy
        for proxy in self.toxiproxy.proxies().values():
            service = proxy.name.split("--", 1)[0]
            if service in self.topology.services:  # a service under test never moves
                if service not in current:
                    current[service] = str(self.direct_address(service))
                if proxy.upstream != current[service]:
                    self.toxiproxy.update(proxy.name, upstream=current[service])
                    _events.emit("proxy re-pointed", proxy=proxy.name, upstream=current[service])

    def logs(self, service: str, tail: int = 50) -> str:
        """The service's last `tail` log lines (a process's output, or its container's)."""
        sut = self.topology.under_test.get(service)
        if sut is not None and sut.is_process:
            return self.process(service).logs(tail)
        return self.compose.logs(service, tail)

    def health(self) -> dict[str, str]:
        """Each service's state: healthy, starting, unhealthy, exited, stopped, or missing."""
        containers = self.containers()
        names = [PROXY, *self.topology.names]
        states = {name: _health(containers.get(name)) for name in names}
        for name, sut in self.topology.under_test.items():
            if sut.is_process:
                state = self.process(name).state()
                states[name] = "healthy" if state == "running" else state
            else:
                states[name] = _health(containers.get(name))
        return states


_HEALTH_IN_STATUS = re.compile(r"\((?P<health>healthy|unhealthy|health: starting)\)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _health(container: Container | None) -> str:
    if container is None:
        return "missing"
    state = container.attrs.get("State", {})
    if state.get("Status") in ("exited", "dead"):
        return str(state["Status"])
    return str(state.get("Health", {}).get("Status", state.get("Status", "unknown")))
