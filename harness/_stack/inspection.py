"""What runs in one compose project, as Docker and the process records say: containers, host
processes, health, Docker's events, logs. Read-only."""

from __future__ import annotations

import re
import time

from docker.models.containers import Container

from harness import _docker, _labels, _process
from harness._compose import Compose
from harness._topology import FRONT_SERVICES, Topology

_HEALTH_IN_STATUS = re.compile(r"\((?P<health>healthy|unhealthy|health: starting)\)")


class Inspector:
    """Questions about one project's containers and processes, asked afresh each time."""

    def __init__(self, project: str, topology: Topology, compose: Compose) -> None:
        self.project = project
        self.topology = topology
        self.compose = compose

    def containers(self) -> dict[str, Container]:
        """The project's containers by service name."""
        found = _docker.client().containers.list(
            all=True, filters={"label": f"{_labels.PROJECT}={self.project}"}
        )
        return {c.labels.get(_labels.SERVICE, c.name): c for c in found}

    def running_services(self) -> list[str]:
        """Services of this project whose container is running."""
        return sorted(n for n, c in self.containers().items() if c.status == "running")

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

    def logs(self, service: str, tail: int = 50) -> str:
        """The service's last `tail` log lines (a process's output, or its container's)."""
        sut = self.topology.under_test.get(service)
        if sut is not None and sut.is_process:
            return self.process(service).logs(tail)
        return self.compose.logs(service, tail)

    def health(self) -> dict[str, str]:
        """Each service's state: healthy, starting, unhealthy, exited, stopped, or missing."""
        containers = self.containers()
        names = [*FRONT_SERVICES, *self.topology.names]
        states = {name: _health(containers.get(name)) for name in names}
        for name, sut in self.topology.under_test.items():
            if sut.is_process:
                state = self.process(name).state()
                states[name] = "healthy" if state == "running" else state
            else:
                states[name] = _health(containers.get(name))
        return states

    def health_states(self) -> dict[str, str]:
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


def _health(container: Container | None) -> str:
    if container is None:
        return "missing"
    state = container.attrs.get("State", {})
    if state.get("Status") in ("exited", "dead"):
        return str(state["Status"])
    return str(state.get("Health", {}).get("Status", state.get("Status", "unknown")))
