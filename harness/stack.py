"""How the stack is started: one compose project per run, up to healthy, addresses, logs, down."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from docker.models.containers import Container

from harness import _docker, _labels, _paths, images, reaper, topology
from harness._compose import Compose
from harness.errors import HarnessError, HealthTimeout

Progress = Callable[[str, str], None]  # (service, state)


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
        files = list(compose_files or [_paths.compose_file()])
        run_env = {"HARNESS_RUN_ID": project, "HARNESS_OWNER": owner, **(env or {})}
        self.compose = Compose(project, files, run_env)
        self._addresses: dict[str, Address] = {}

    # -- lifecycle -------------------------------------------------------------------
    def up(
        self,
        services: Sequence[str] | None = None,
        *,
        timeout: float = 180.0,
        progress: Progress | None = None,
        cleanup_on_failure: bool = True,
    ) -> list[str]:
        """Start the services (all by default) and wait until each is healthy.

        On failure the error names the service and carries its last 50 log lines; with
        `cleanup_on_failure` nothing of this project is left running.
        """
        names = [service.name for service in self.topology.select(services)]
        images.require(sorted({self.topology.get(name).image for name in names}))
        reaper.reap_dead_runs()
        try:
            self.compose.up(names)
            self.wait_healthy(names, timeout=timeout, progress=progress)
        except BaseException:
            if cleanup_on_failure:
                self.down()
            raise
        return names

    def wait_healthy(
        self, services: Sequence[str], *, timeout: float = 180.0, progress: Progress | None = None
    ) -> None:
        """Poll Docker's health status of each service until all are healthy or the deadline."""
        deadline = time.monotonic() + timeout
        pending = set(services)
        reported: dict[str, str] = {}
        while pending:
            containers = self.containers()
            for name in sorted(pending):
                state = _health(containers.get(name))
                if progress and reported.get(name) != state:
                    progress(name, state)
                    reported[name] = state
                if state == "healthy":
                    pending.discard(name)
                elif state in ("exited", "dead"):
                    raise HealthTimeout(
                        f"service {name} stopped before becoming healthy ({state})",
                        {name: self.logs(name)},
                    )
            if pending and time.monotonic() > deadline:
                names = ", ".join(sorted(pending))
                raise HealthTimeout(
                    f"service(s) {names} not healthy after {timeout:.0f} s "
                    "(raise it with --health-timeout)",
                    {name: self.logs(name) for name in sorted(pending)},
                )
            if pending:
                time.sleep(0.1)

    def down(self) -> None:
        """Remove everything this run labeled: compose's resources and any isolated container."""
        try:
            self.compose.down()
        finally:
            reaper.remove_run(self.project)
        self._addresses.clear()

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
        """The client-facing address of a service (its published port on 127.0.0.1)."""
        spec = self.topology.get(service)
        if service not in self._addresses:
            container = self.containers().get(service)
            if container is None:
                raise HarnessError(f"service {service} is not running in stack {self.project}")
            bindings = (container.attrs["NetworkSettings"]["Ports"] or {}).get(
                f"{spec.container_port}/tcp"
            )
            if not bindings:
                raise HarnessError(f"service {service} publishes no port in stack {self.project}")
            self._addresses[service] = Address(
                bindings[0]["HostIp"] or "127.0.0.1", int(bindings[0]["HostPort"])
            )
        return self._addresses[service]

    def logs(self, service: str, tail: int = 50) -> str:
        """The service's last `tail` log lines."""
        return self.compose.logs(service, tail)

    def health(self) -> dict[str, str]:
        """Each service's state: healthy, starting, unhealthy, exited, or missing."""
        containers = self.containers()
        return {name: _health(containers.get(name)) for name in self.topology.names}


def _health(container: Container | None) -> str:
    if container is None:
        return "missing"
    state = container.attrs.get("State", {})
    if state.get("Status") in ("exited", "dead"):
        return str(state["Status"])
    return str(state.get("Health", {}).get("Status", state.get("Status", "unknown")))
