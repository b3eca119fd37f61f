"""The stack's Toxiproxy: where its API listens, and one proxy per service and namespace
(`redis` is the default proxy, `redis--gw0` a worker's own), kept pointing at its backend.

Toxiproxy runs on the compose network. A proxy for this machine's clients listens on a port of
the pool the engine published at `up` (the container ports of `HARNESS_PROXY_POOL`), and its
address is what the engine reports for that port. A proxy for containers (a containerised
service under test reaching its backends, Prometheus scraping) listens on any port and is
reached as `toxiproxy:<port>` on the compose network.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Sequence

from harness import _events
from harness._errors import HarnessError
from harness._stack import addresses
from harness._stack.addresses import Address
from harness._stack.http_layer import HttpLayer
from harness._stack.inspection import Inspector
from harness._topology import PROXY_SERVICE, UnderTest
from harness._toxiproxy import Proxy, ProxyExists, ToxiproxyClient, ToxiproxyError

PROXY = PROXY_SERVICE
API_PORT = 8474  # the API's port in the container (compose.yaml)
POOL_LABEL = "org.mediastack-harness.proxy-pool"
POOL_START = 20000  # the pool's first container port
POOL_SIZE_VAR = "HARNESS_PROXY_PORTS"
PROMETHEUS = "prometheus"


class PoolExhausted(HarnessError):
    """Every published port of the proxy pool is taken."""


def pool_range(size: int) -> str:
    """`HARNESS_PROXY_POOL` for a pool of `size` ports: `20000-20031`."""
    return f"{POOL_START}-{POOL_START + size - 1}"


def pool_size(backends: int, under_test: Sequence[UnderTest], clients: int | None = None) -> int:
    """How many proxy ports to publish: `HARNESS_PROXY_PORTS`, else a default proxy and one per
    client (`clients`: the run's xdist workers; else each core) for every backend and every
    service under test, the links of services under test run as processes, and a few for tests'
    own namespaces."""
    explicit = os.environ.get(POOL_SIZE_VAR, "").strip()
    if explicit:
        if not explicit.isdigit() or not 1 <= int(explicit) <= 2000:
            raise HarnessError(f"{POOL_SIZE_VAR}={explicit!r}: give a number of ports, 1 to 2000")
        return int(explicit)
    clients = clients or os.cpu_count() or 2
    links = sum(len(sut.needs) for sut in under_test if sut.is_process)
    # each worker (and the default) may take a proxy per backend and per service under test
    return (backends + len(under_test)) * (clients + 1) + links + 8


class Proxies:
    """One stack's proxies; `upstream(service)` says where Toxiproxy reaches each backend."""

    def __init__(
        self, inspector: Inspector, upstream: Callable[[str], str], layer: HttpLayer | None
    ) -> None:
        self._inspector = inspector
        self._upstream = upstream
        self.layer = layer  # None: every proxy dials its backend itself (no HTTP faults)
        self.client: ToxiproxyClient | None = None  # made at first use
        self.pool: dict[int, Address] | None = None  # container port -> client address, once read
        self._defaults: dict[str, Address] = {}  # each service's default proxy, once asked

    def _container(self):  # type: ignore[no-untyped-def]
        return addresses.running(self._inspector, PROXY)

    def api(self) -> Address:
        """Where this machine reaches this stack's Toxiproxy API (the port the engine
        published)."""
        address = addresses.published(self._container(), API_PORT)
        if address is None:
            raise HarnessError(f"{PROXY} of stack {self._inspector.project} publishes no API port")
        return address

    def published(self) -> dict[int, Address]:
        """The pool: each published container port and where this machine reaches it."""
        if self.pool is None:
            ports = addresses.published_ports(self._container())
            ports.pop(API_PORT, None)
            self.pool = ports
        return self.pool

    @property
    def toxiproxy(self) -> ToxiproxyClient:
        """A client for this stack's Toxiproxy API."""
        if self.client is None:
            self.client = ToxiproxyClient(self.api().url)
        return self.client

    @staticmethod
    def name(service: str, namespace: str | None = None) -> str:
        """`redis` for the default proxy, `redis--gw0` for a worker's own."""
        return f"{service}--{namespace}" if namespace else service

    def for_containers(self, namespace: str | None) -> bool:
        """Whether a namespace's proxies serve containers (a containerised service under test,
        Prometheus) rather than this machine's clients."""
        if namespace == PROMETHEUS:
            return True
        sut = self._inspector.topology.under_test.get(namespace or "")
        return sut is not None and not sut.is_process

    def default(self, service: str) -> Address:
        """The client-facing address of a service: its default proxy (made once, then kept)."""
        self._inspector.topology.reachable(service)
        if service not in self._defaults:
            self._defaults.update(self.ensure([service]))
        return self._defaults[service]

    def expose(self, name: str, upstream: str) -> Address:
        """A proxy called `name` in front of `upstream` (as Toxiproxy reaches it), on a pool
        port: where this machine's clients reach it (kept when it exists)."""
        existing = self.toxiproxy.proxies()
        proxy = existing.get(name) or self._create_published(name, upstream, existing)
        return self._address(proxy, inside=False)

    def from_containers(self, address: str) -> str:
        """An address this machine reaches as the stack's containers reach it: a published pool
        port as `toxiproxy:<port>`, anything else of this machine through the host gateway."""
        for port, published in self.published().items():
            if str(published) == address:
                return f"{PROXY}:{port}"
        return addresses.from_containers(address)

    def inside(self, service: str) -> Address:
        """The default proxy of a service as containers on the compose network reach it."""
        self.default(service)
        return Address(PROXY, self.toxiproxy.get(self.name(service)).port)

    def forget(self, service: str) -> None:
        """Drop the kept default address of a service (it has just (re)started)."""
        self._defaults.pop(service, None)

    def clear(self) -> None:
        """Forget every kept address, the pool and the client (the stack is gone)."""
        self._defaults.clear()
        self.client = None
        self.pool = None
        if self.layer is not None:
            self.layer.clear()

    def ensure(self, services: Sequence[str], namespace: str | None = None) -> dict[str, Address]:
        """Create (or keep) one proxy per service in `namespace`; returns their addresses.

        Safe from any number of threads and processes at once: a proxy is created with
        `POST /proxies`, and one that another caller created first is kept (`/populate` would
        replace it and close the listener the first caller was handed: issue 14). Two callers
        taking the same pool port: Toxiproxy refuses the second, which takes the next one.
        """
        inside = self.for_containers(namespace)
        existing = self.toxiproxy.proxies()
        for service in services:
            name = self.name(service, namespace)
            if name not in existing:
                upstream = self._leg(name, service)
                existing[name] = (
                    self._create(name, "0.0.0.0:0", upstream)
                    if inside
                    else self._create_published(name, upstream, existing)
                )
        return {
            service: self._address(existing[self.name(service, namespace)], inside)
            for service in services
        }

    def _leg(self, name: str, service: str) -> str:
        """Where the proxy `name` dials: an HTTP service's route on the HTTP fault layer (made
        or re-pointed at the backend now), else the backend itself."""
        backend = self._upstream(service)
        if self.layer is None or not self._inspector.topology.speaks_http(service):
            return backend
        return self.layer.route(name, backend)

    def _create(self, name: str, listen: str, upstream: str) -> Proxy:
        try:
            proxy = self.toxiproxy.create(name, listen, upstream)
        except ProxyExists:
            return self.toxiproxy.get(name)
        _events.emit("proxy created", proxy=name, listen=proxy.listen)
        return proxy

    def _create_published(self, name: str, upstream: str, existing: dict[str, Proxy]) -> Proxy:
        pool = sorted(self.published())
        taken = {proxy.port for proxy in existing.values()}
        free = [port for port in pool if port not in taken]
        start = zlib.crc32(name.encode()) % len(free) if free else 0  # callers spread out
        for port in free[start:] + free[:start]:
            try:
                return self._create(name, f"0.0.0.0:{port}", upstream)
            except ToxiproxyError as error:
                if "address already in use" not in str(error):
                    raise
        raise PoolExhausted(
            f"all {len(pool)} published proxy ports of stack {self._inspector.project} are taken "
            f"(proxy {name} found none): `harness down`, then start it with a larger pool, "
            f"{POOL_SIZE_VAR}={2 * len(pool)}"
        )

    def where(self, proxy: Proxy) -> Address:
        """Where a proxy is reached: this machine's address for a pool port, else
        `toxiproxy:<port>` on the compose network."""
        return self.published().get(proxy.port) or Address(PROXY, proxy.port)

    def _address(self, proxy: Proxy, inside: bool) -> Address:
        if inside:
            return Address(PROXY, proxy.port)
        pool = self.published()
        if proxy.port not in pool:
            raise HarnessError(
                f"proxy {proxy.name} listens on {proxy.listen}, not on a published port of "
                f"stack {self._inspector.project}: delete it (`harness fault clear`) and retry"
            )
        return pool[proxy.port]

    def sync(self) -> None:
        """Point every proxy (and its route on the HTTP layer) at its backend's current address
        (a restarted container may get another); a backend that is not running keeps its
        proxies as they are."""
        topology = self._inspector.topology
        for proxy in self.toxiproxy.proxies().values():
            service = proxy.name.split("--", 1)[0]
            sut = topology.under_test.get(service)
            if service not in topology.services and (sut is None or sut.is_process):
                continue
            try:
                leg = self._leg(proxy.name, service)
            except HarnessError:
                continue  # down: nothing to point at
            if proxy.upstream != leg:
                self.toxiproxy.update(proxy.name, upstream=leg)
                _events.emit("proxy re-pointed", proxy=proxy.name, upstream=leg)
