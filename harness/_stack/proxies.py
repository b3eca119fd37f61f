"""The stack's Toxiproxy: where its API listens, and one proxy per service and namespace
(`redis` is the default proxy, `redis--gw0` a worker's own), kept pointing at its backend."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness import _events
from harness._errors import HarnessError
from harness._stack.addresses import Address
from harness._stack.inspection import Inspector
from harness._topology import PROXY_SERVICE
from harness._toxiproxy import ProxyExists, ToxiproxyClient

PROXY = PROXY_SERVICE
PROXY_PORT_LABEL = "org.mediastack-harness.toxiproxy-port"


class Proxies:
    """One stack's proxies; `direct_address(service)` says where each one's backend listens."""

    def __init__(self, inspector: Inspector, direct_address: Callable[[str], Address]) -> None:
        self._inspector = inspector
        self._direct_address = direct_address
        self.client: ToxiproxyClient | None = None  # made at first use
        self._defaults: dict[str, Address] = {}  # each service's default proxy, once asked

    def api(self) -> Address:
        """Where this stack's Toxiproxy API listens (host network, 127.0.0.1)."""
        container = self._inspector.containers().get(PROXY)
        if container is None:
            raise HarnessError(f"stack {self._inspector.project} has no running {PROXY}")
        return Address("127.0.0.1", int(container.labels[PROXY_PORT_LABEL]))

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

    def default(self, service: str) -> Address:
        """The client-facing address of a service: its default proxy (made once, then kept)."""
        self._inspector.topology.reachable(service)
        if service not in self._defaults:
            self._defaults.update(self.ensure([service]))
        return self._defaults[service]

    def forget(self, service: str) -> None:
        """Drop the kept default address of a service (it has just (re)started)."""
        self._defaults.pop(service, None)

    def clear(self) -> None:
        """Forget every kept address and the client (the stack is gone)."""
        self._defaults.clear()
        self.client = None

    def ensure(self, services: Sequence[str], namespace: str | None = None) -> dict[str, Address]:
        """Create (or keep) one proxy per service in `namespace`; returns their addresses.

        Safe from any number of threads and processes at once: a proxy is created with
        `POST /proxies`, and one that another caller created first is kept. (`/populate` would
        replace it, since `127.0.0.1:0` differs from its bound port, closing the listener the
        first caller was handed: the refused connections of issue 14.)
        """
        existing = self.toxiproxy.proxies()
        for service in services:
            name = self.name(service, namespace)
            if name not in existing:
                try:
                    existing[name] = self.toxiproxy.create(
                        name, "127.0.0.1:0", str(self._direct_address(service))
                    )
                    _events.emit("proxy created", proxy=name, listen=existing[name].listen)
                except ProxyExists:
                    existing[name] = self.toxiproxy.get(name)
        return {
            service: Address("127.0.0.1", existing[self.name(service, namespace)].port)
            for service in services
        }

    def sync(self) -> None:
        """Point every proxy at its backend's current port (a restarted container may move)."""
        current: dict[str, str] = {}  # one Docker lookup per service, not per proxy
        for proxy in self.toxiproxy.proxies().values():
            service = proxy.name.split("--", 1)[0]
            if service in self._inspector.topology.services:  # a service under test never moves
                if service not in current:
                    current[service] = str(self._direct_address(service))
                if proxy.upstream != current[service]:
                    self.toxiproxy.update(proxy.name, upstream=current[service])
                    _events.emit("proxy re-pointed", proxy=proxy.name, upstream=current[service])
