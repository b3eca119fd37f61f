"""The shared stack as one xdist worker sees it: its own proxies, its own namespace.

`WorkerBackends` and `ServiceUnderTest` are public API: the `backends` and `under_test`
fixtures hand them out.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness import _events, _reached
from harness._errors import HarnessError
from harness._stack import Address, Stack
from harness.mocks import NAMESPACE_HEADER

if TYPE_CHECKING:
    from pluggy import HookRelay

__all__ = ["NAMESPACE_HEADER", "ServiceUnderTest", "WorkerBackends"]


class WorkerBackends:
    """The shared stack as one worker sees it: its own Toxiproxy proxy in front of each backend
    and each service under test."""

    def __init__(
        self,
        stack: Stack,
        namespace: str,
        hook: HookRelay | None = None,
        worker_id: str = "master",
    ) -> None:
        """`namespace`: this worker's slice of the stack (its proxies' suffix, its mock
        namespace); `hook`: pytest's hook relay, to call `pytest_harness_isolate_backend` the
        first time a project's own backend is reached; `worker_id`: xdist's (`gw0` …)."""
        self.stack: Stack = stack
        self.namespace: str = namespace
        self.worker_id: str = worker_id
        self._hook = hook
        self._addresses: dict[str, Address] = {}
        self.isolation: dict[str, Any] = {}  # what `pytest_harness_isolate_backend` returned
        self.reached: dict[str, set[str]] = {}  # test node id -> services it asked for

    def address(self, service: str) -> Address:
        """This worker's client-facing address of `service` (faults here touch no other worker)."""
        self.reached.setdefault(_reached.current_test(), set()).add(service)
        found = self.proxy(service)
        own = service in self.stack.topology.services and self.stack.topology.get(service).own
        if own and self._hook is not None and service not in self.isolation:
            self.isolation[service] = self._hook.pytest_harness_isolate_backend(
                name=service, address=found, namespace=self.namespace, worker_id=self.worker_id
            )
        return found

    def proxy(self, service: str) -> Address:
        """This worker's proxy in front of `service`, made once; nothing else: no test records
        it, no hook is called (the project's `test-env` is rendered with it before collection,
        before its conftest.py is loaded: `address` calls the hook later)."""
        if service not in self._addresses:
            self.stack.topology.reachable(service)
            self._addresses.update(self.stack.ensure_proxies([service], self.namespace))
        return self._addresses[service]

    def handed_out(self) -> list[str]:
        """Every service this worker has a proxy address of."""
        return sorted(self._addresses)


def release(worker: WorkerBackends) -> None:
    """Delete the proxies `worker` made (a long-lived, attached stack keeps none of them)."""
    stack, namespace = worker.stack, worker.namespace
    for service in worker.handed_out():
        with contextlib.suppress(HarnessError):
            stack.toxiproxy.delete(stack.proxy_name(service, namespace))
            _events.emit("proxy deleted", proxy=stack.proxy_name(service, namespace))
        if stack.topology.speaks_http(service):
            with contextlib.suppress(HarnessError):
                stack.http_layer.client.delete_route(stack.proxy_name(service, namespace))
    worker._addresses.clear()


@dataclass(frozen=True)
class ServiceUnderTest:
    """A service under test as this worker reaches it: through a proxy of the worker's own, so
    TCP faults on it (`faults.latency("api", 200)`) touch no other worker."""

    name: str
    address: Address
    stack: Stack

    @property
    def url(self) -> str:
        """`http://<host>:<port>` of this worker's proxy in front of it."""
        return self.address.url

    def logs(self, tail: int = 50) -> str:
        """Its last output lines (a process's, or its container's)."""
        return self.stack.logs(self.name, tail)
