"""Where a service listens: the `Address` clients get, a backend's published port, the port a
service under test listens on, and a free port for one about to start."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from harness import _overlay
from harness import _topology as topology
from harness._errors import HarnessError
from harness._stack.inspection import Inspector


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


def free_port() -> int:
    """A port nothing listens on right now, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def direct(inspector: Inspector, service: str) -> Address:
    """The backend's own published port, bypassing the proxy (asked of Docker each time); a
    service under test's own port on 127.0.0.1."""
    if service in inspector.topology.under_test:
        return under_test(inspector, service)
    spec = inspector.topology.get(service)
    container = inspector.containers().get(service)
    if container is None or container.status != "running":
        raise HarnessError(f"service {service} is not running in stack {inspector.project}")
    if spec.host_network:
        return Address("127.0.0.1", int(container.labels[topology.HOST_PORT_LABEL]))
    bindings = (container.attrs["NetworkSettings"]["Ports"] or {}).get(f"{spec.container_port}/tcp")
    if not bindings:
        raise HarnessError(f"service {service} publishes no port in stack {inspector.project}")
    return Address("127.0.0.1", int(bindings[0]["HostPort"]))


def under_test(inspector: Inspector, service: str) -> Address:
    """Where a started service under test listens: its process record, or its container's
    label."""
    if inspector.topology.under_test[service].is_process:
        record = inspector.process(service).record
        if record is None:
            raise HarnessError(f"service {service} was not started in stack {inspector.project}")
        return Address("127.0.0.1", record.port)
    container = inspector.containers().get(service)
    if container is None:
        raise HarnessError(f"service {service} is not running in stack {inspector.project}")
    return Address("127.0.0.1", int(container.labels[_overlay.APP_PORT_LABEL]))


def port_of(inspector: Inspector, name: str) -> int | None:
    """The port a service under test had, so a restart keeps it (its proxies stay right)."""
    try:
        return under_test(inspector, name).port
    except (HarnessError, KeyError, ValueError):
        return None
