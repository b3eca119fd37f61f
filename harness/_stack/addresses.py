"""Where a service listens: the `Address` clients get, always what the engine reports for a
published port (on a remote engine, that machine's address), never an assumed 127.0.0.1.

- `published(container, port)`: the host side of a container port the engine published;
- `direct(...)`: a backend's or a service under test's own port, bypassing its proxy;
- `upstream(...)`: where the stack's Toxiproxy (a container on the compose network) reaches a
  service: a backend or a containerised service under test at its address on that network, a
  host process through the engine's host gateway (`host.docker.internal`).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from contextlib import suppress
from dataclasses import dataclass
from functools import cache

import docker
from docker.models.containers import Container

from harness import _docker, _overlay
from harness._errors import HarnessError
from harness._stack.inspection import Inspector

PUBLISH_HOST_VAR = "HARNESS_PUBLISH_HOST"
HOST_GATEWAY = "host.docker.internal"  # compose.yaml's extra_hosts: the engine's host gateway
_WILDCARDS = {"", "0.0.0.0", "::"}


@dataclass(frozen=True)
class Address:
    """Where a client reaches a service: a host and a port."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """`http://host:port`, for HTTP services."""
        return f"http://{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def publish_host() -> str:
    """The address the engine binds published ports to: `HARNESS_PUBLISH_HOST`, else 127.0.0.1
    (never every interface unless told so)."""
    return os.environ.get(PUBLISH_HOST_VAR) or "127.0.0.1"


def check_reachable() -> None:
    """Fail before anything starts when the engine would publish where this machine cannot
    reach: a remote engine's loopback."""
    remote = _docker.remote_host()
    if remote is None:
        return
    bind = publish_host()
    try:
        loopback = ipaddress.ip_address(bind).is_loopback
    except ValueError:
        loopback = bind == "localhost"
    if loopback:
        raise HarnessError(
            f"the engine runs on {remote}, and ports published on its loopback ({bind}) are out "
            f"of this machine's reach: set {PUBLISH_HOST_VAR} to an address of {remote} this "
            "machine reaches (a private interface), or use an ssh:// engine with the ports "
            "forwarded (docs/engines.md, Remote engines)"
        )


def client_address(binding_ip: str, port: int) -> Address:
    """The address a client on this machine uses for a port the engine published on
    `binding_ip`."""
    remote = _docker.remote_host()
    if binding_ip in _WILDCARDS:
        return Address(remote or "127.0.0.1", port)
    return Address(binding_ip, port)


def published(container: Container, container_port: int) -> Address | None:
    """Where this machine reaches a container's published port (None when it is not
    published)."""
    bindings = (container.attrs["NetworkSettings"]["Ports"] or {}).get(f"{container_port}/tcp")
    if not bindings:
        return None
    ipv4 = [b for b in bindings if ":" not in (b.get("HostIp") or "")] or bindings
    return client_address(ipv4[0].get("HostIp") or "", int(ipv4[0]["HostPort"]))


def published_ports(container: Container) -> dict[int, Address]:
    """Every published TCP port of a container, container port -> client address."""
    found: dict[int, Address] = {}
    for key in container.attrs["NetworkSettings"]["Ports"] or {}:
        port, _, protocol = key.partition("/")
        if protocol == "tcp":
            address = published(container, int(port))
            if address is not None:
                found[int(port)] = address
    return found


@cache
def process_host() -> str:
    """The address a service under test run as a host process listens on (its `{host}`): where
    the stack's containers reach it through the host gateway, and this machine too.
    `HARNESS_PROCESS_HOST` when set."""
    if os.environ.get("HARNESS_PROCESS_HOST"):
        return os.environ["HARNESS_PROCESS_HOST"]
    client = _docker.client()
    return process_host_on(client, _docker.engine_kind(client.info(), client.version()))


def process_host_on(client: docker.DockerClient, kind: str) -> str:
    """`process_host` for an engine of this kind: on rootful Linux Docker, the default bridge's
    gateway (the engine's `host-gateway`, an address of this machine that only it and its
    containers use); elsewhere 127.0.0.1, which Docker Desktop's and (with its host loopback
    open) rootless Docker's gateways forward to."""
    if kind == "rootful Docker" and _docker.remote_host() is None:
        with suppress(Exception):
            config = client.networks.get("bridge").attrs["IPAM"]["Config"]
            gateway = next(entry["Gateway"] for entry in config if "Gateway" in entry)
            with socket.socket() as probe:  # an address of this machine, not of a remote one
                probe.bind((gateway, 0))
            return str(gateway)
    return "127.0.0.1"


def host_gateway() -> str:
    """What `host.docker.internal` resolves to in the stack's containers."""
    client = _docker.client()
    return host_gateway_for(_docker.engine_kind(client.info(), client.version()))


def host_gateway_for(kind: str) -> str:
    """The engine's `host-gateway`, except under rootless Docker, whose containers reach this
    machine's loopback at slirp4netns's 10.0.2.2."""
    return "10.0.2.2" if kind == "rootless Docker" else "host-gateway"


def from_containers(address: str) -> str:
    """`host:port` of this machine (a process listening on `process_host()`, or on loopback
    where the engine forwards it) as the stack's containers reach it: through the engine's host
    gateway (`host.docker.internal`); any other address as it is."""
    host, _, port = address.rpartition(":")
    if host in ("127.0.0.1", "localhost", process_host()):
        return f"{HOST_GATEWAY}:{port}"
    return address


def free_port(host: str | None = None) -> int:
    """A port nothing listens on right now, on `host` (a host process's address by default)."""
    with socket.socket() as probe:
        probe.bind((host or process_host(), 0))
        return int(probe.getsockname()[1])


def direct(inspector: Inspector, service: str) -> Address:
    """The backend's own published port, bypassing the proxy (asked of Docker each time); a
    service under test's own port."""
    if service in inspector.topology.under_test:
        return under_test(inspector, service)
    spec = inspector.topology.get(service)
    container = running(inspector, service)
    address = published(container, spec.container_port)
    if address is None:
        raise HarnessError(f"service {service} publishes no port in stack {inspector.project}")
    return address


def upstream(inspector: Inspector, service: str) -> str:
    """`host:port` where the stack's Toxiproxy reaches `service` on the compose network (a
    restarted container may move: `Proxies.sync` re-points its proxies)."""
    topology = inspector.topology
    if service in topology.under_test:
        port = _own_port(inspector, service)
        if topology.under_test[service].is_process:
            return f"{HOST_GATEWAY}:{port}"
        return f"{network_ip(inspector, service)}:{port}"
    spec = topology.get(service)
    return f"{network_ip(inspector, service)}:{spec.container_port}"


def network_ip(inspector: Inspector, service: str) -> str:
    """The running container's address on the stack's network: numeric, so Toxiproxy dials it
    without a DNS lookup (a stopped container's name can take seconds to fail, holding up the
    stand-in's resolver for every proxy); re-pointed after a restart (`Proxies.sync`)."""
    container = running(inspector, service)  # a proxy in front of nothing would only refuse
    networks = container.attrs["NetworkSettings"]["Networks"] or {}
    backend = networks.get(f"{inspector.project}_backend") or {}
    address = backend.get("IPAddress") or ""
    if not address:
        raise HarnessError(f"service {service} is not on the network of stack {inspector.project}")
    return str(address)


def under_test(inspector: Inspector, service: str) -> Address:
    """Where this machine reaches a started service under test: a process's own port, or the
    port its container publishes."""
    port = _own_port(inspector, service)
    if inspector.topology.under_test[service].is_process:
        return Address(process_host(), port)
    address = published(running(inspector, service), port)
    if address is None:
        raise HarnessError(f"service {service} publishes no port in stack {inspector.project}")
    return address


def _own_port(inspector: Inspector, service: str) -> int:
    """The port a service under test listens on (a process's record, a container's label)."""
    if inspector.topology.under_test[service].is_process:
        record = inspector.process(service).record
        if record is None:
            raise HarnessError(f"service {service} was not started in stack {inspector.project}")
        return record.port
    container = inspector.containers().get(service)
    if container is None:
        raise HarnessError(f"service {service} is not running in stack {inspector.project}")
    return int(container.labels[_overlay.APP_PORT_LABEL])


def running(inspector: Inspector, service: str) -> Container:
    """The service's running container, or a one-line error."""
    container = inspector.containers().get(service)
    if container is None or container.status != "running":
        raise HarnessError(f"service {service} is not running in stack {inspector.project}")
    return container


def port_of(inspector: Inspector, name: str) -> int | None:
    """The port a service under test had, so a restart keeps it (its proxies stay right)."""
    try:
        return _own_port(inspector, name)
    except (HarnessError, KeyError, ValueError):
        return None
