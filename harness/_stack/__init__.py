"""How the stack is started: one compose project per run, up to healthy, addresses, logs, down.

`Stack` is a facade: each concern lives in a part under `harness._stack` (see its docstring).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from docker.models.containers import Container

from harness import _labels, _process
from harness import _topology as topology
from harness._compose import Compose
from harness._stack import addresses, health, lifecycle, scraping
from harness._stack.addresses import Address
from harness._stack.health import Progress
from harness._stack.http_layer import HttpLayer
from harness._stack.inspection import Inspector
from harness._stack.lifecycle import Lifecycle
from harness._stack.proxies import PROXY, Proxies
from harness._stack.scraping import PROMETHEUS
from harness._stack.starter import UnderTestStarter
from harness._toxiproxy import Proxy, ToxiproxyClient

__all__ = [
    "PROMETHEUS",
    "PROXY",
    "Address",
    "Progress",
    "Stack",
    "new_project_name",
]


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
        files = list(compose_files or lifecycle.compose_files(self.topology))
        run_env = {"HARNESS_RUN_ID": project, "HARNESS_OWNER": owner, **(env or {})}
        own = self.topology.project
        directory = own.root if own and own.compose_paths and not compose_files else None
        self.compose = Compose(project, files, run_env, directory)
        self._inspector = Inspector(project, self.topology, self.compose)
        # late-bound: a test may replace `upstream` on the instance
        self.http_layer = HttpLayer(self._inspector)
        self._proxies = Proxies(
            self._inspector, lambda service: self.upstream(service), self.http_layer
        )
        self._starter = UnderTestStarter(owner, self.compose, self._inspector, self._proxies)
        self._lifecycle = Lifecycle(self.compose, self._inspector, self._proxies, self._starter)

    # -- lifecycle -------------------------------------------------------------------
    def up(
        self,
        services: Sequence[str] | None = None,
        *,
        under_test: Sequence[str] | None = None,
        timeout: float = 180.0,
        progress: Progress | None = None,
        cleanup_on_failure: bool = True,
        clients: int | None = None,
    ) -> list[str]:
        """Start the backends (the project's by default) and wait until each is healthy.

        Then the project's services under test (`under_test`, all by default) start, each after
        the backends it needs, and are health-waited. On failure the error names the service and
        carries its last log lines; with `cleanup_on_failure` nothing of this project is left
        running. `clients` (the run's xdist workers; default: the cores) sizes the pool of proxy
        ports published for this machine's clients (`HARNESS_PROXY_PORTS` overrides it).
        """
        return self._lifecycle.up(
            services,
            under_test=under_test,
            timeout=timeout,
            progress=progress,
            cleanup_on_failure=cleanup_on_failure,
            clients=clients,
        )

    def down(self) -> None:
        """Remove everything this run labeled: its processes, compose's resources and any
        isolated container."""
        self._lifecycle.down()

    # -- services under test ----------------------------------------------------------
    def start_under_test(
        self, name: str, *, timeout: float = 180.0, progress: Progress | None = None
    ) -> Address:
        """Start one service under test (its backends must be healthy) and wait for health.

        It reaches each backend through a proxy of its own (`<backend>--<name>`), gets its env
        templates filled in, and gets a default proxy in front of it; returns that address.
        """
        return self._starter.start(name, timeout=timeout, progress=progress)

    def process(self, name: str) -> _process.HostProcess:
        """The host process of a service under test declared with a `command`."""
        return self._inspector.process(name)

    def running_under_test(self) -> list[str]:
        """Services under test that are up (process alive, or container running)."""
        return self._inspector.running_under_test()

    # -- Prometheus --------------------------------------------------------------------
    def has_prometheus(self) -> bool:
        """Whether Prometheus is part of this stack (its run configuration was written)."""
        return scraping.has_prometheus(self.project)

    def scrape_targets(self) -> list[str]:
        """The services under test this stack's Prometheus scrapes (none without Prometheus)."""
        return scraping.scrape_targets(self.project, self.topology)

    def check_link(self, service: str, via: str) -> None:
        """Fail unless `via` reaches `service` through a proxy of its own, `<service>--<via>`:
        a service under test reaching a backend, or Prometheus scraping a service under test."""
        scraping.check_link(self.project, self.topology, service, via)

    # -- health ------------------------------------------------------------------------
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
        health.wait_healthy(
            self._inspector,
            services,
            timeout=timeout,
            progress=progress,
            since=since,
            own_checks=own_checks,
        )

    def health(self) -> dict[str, str]:
        """Each service's state: healthy, starting, unhealthy, exited, stopped, or missing."""
        return self._inspector.health()

    # -- inspection ------------------------------------------------------------------
    def containers(self) -> dict[str, Container]:
        """The project's containers by service name."""
        return self._inspector.containers()

    def running_services(self) -> list[str]:
        """Services of this project whose container is running."""
        return self._inspector.running_services()

    def container_events(self, since: float, limit: int = 60) -> list[str]:
        """What Docker did to this project's containers since `since` (lifecycle, not execs)."""
        return self._inspector.container_events(since, limit)

    def logs(self, service: str, tail: int = 50) -> str:
        """The service's last `tail` log lines (a process's output, or its container's)."""
        return self._inspector.logs(service, tail)

    # -- addresses -------------------------------------------------------------------
    def address(self, service: str) -> Address:
        """The client-facing address of a service: its default Toxiproxy proxy, where the
        engine published it."""
        return self._proxies.default(service)

    def direct_address(self, service: str) -> Address:
        """The backend's own published port, bypassing the proxy (for benchmarks and repairs).

        Asked of Docker each time: a container restarted by another worker gets a new host port.
        """
        return addresses.direct(self._inspector, service)

    def upstream(self, service: str) -> str:
        """`host:port` where the stack's Toxiproxy reaches a service on the compose network."""
        return addresses.upstream(self._inspector, service)

    # -- the fault proxy ---------------------------------------------------------------
    def proxy_api(self) -> Address:
        """Where this machine reaches this stack's Toxiproxy API."""
        return self._proxies.api()

    @property
    def toxiproxy(self) -> ToxiproxyClient:
        """A client for this stack's Toxiproxy API."""
        return self._proxies.toxiproxy

    @property
    def _toxiproxy(self) -> ToxiproxyClient | None:
        """The client once made (a unit test stands one in here: no Docker)."""
        return self._proxies.client

    @_toxiproxy.setter
    def _toxiproxy(self, client: ToxiproxyClient | None) -> None:
        self._proxies.client = client

    def process_host(self) -> str:
        """Where a process this machine runs must listen for the stack's containers (its
        Toxiproxy, its Prometheus) to reach it: what `{host}` renders for a service under test
        run as a process."""
        return addresses.process_host()

    def expose(self, name: str, address: Address) -> Address:
        """A proxy called `name` in front of a process on this machine listening at `address`
        (on `process_host()`), for faults on it (`Toxic(stack.toxiproxy, name, ...)`); returns
        where clients reach it. Kept when it exists; removed with the stack."""
        return self._proxies.expose(name, addresses.from_containers(str(address)))

    def from_containers(self, address: str) -> str:
        """`host:port` of this machine as the stack's containers reach it: one of its published
        proxy ports as `toxiproxy:<port>`, a process (on `process_host()`) through the host
        gateway."""
        return self._proxies.from_containers(address)

    def proxy_address(self, proxy: Proxy) -> Address:
        """Where one of this stack's proxies is reached: from this machine for a pool port, else
        from containers (`toxiproxy:<port>`)."""
        return self._proxies.where(proxy)

    @staticmethod
    def proxy_name(service: str, namespace: str | None = None) -> str:
        """`redis` for the default proxy, `redis--gw0` for a worker's own."""
        return Proxies.name(service, namespace)

    def ensure_proxies(
        self, services: Sequence[str], namespace: str | None = None
    ) -> dict[str, Address]:
        """Create (or keep) one proxy per service in `namespace`; returns their addresses.

        Safe from any number of threads and processes at once: a proxy made by another caller
        first is kept, never replaced (issue 14).
        """
        return self._proxies.ensure(services, namespace)

    def sync_proxies(self) -> None:
        """Point every proxy at its backend's current port (a restarted container may move)."""
        self._proxies.sync()
