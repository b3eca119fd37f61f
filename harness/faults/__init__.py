"""What breaks the stack: one fault API over four layers.

    faults = Faults(stack, namespace="gw0")
    with faults.latency("comfyui", ms=500, jitter=50):   # TCP, through this worker's proxy
        ...
    faults.loss("redis", percent=20)                     # kernel, real packets
    faults.pause("chromadb")                             # container
    faults.http("litellm", status=429, retry_after=2, path="/chat/completions", times=2)  # HTTP
    faults.clear()                                       # revert everything, newest first

Every method applies the fault at once and returns it; each fault is also a context manager.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from docker.errors import NotFound

from harness._stack import Stack
from harness.faults import http, kernel, tcp
from harness.faults._base import Fault, FaultError, UnsupportedByKernel
from harness.faults._target import Target
from harness.faults.container import ContainerFault
from harness.faults.http import HttpFault, validate
from harness.faults.kernel import Delay, Loss, Partition, RateLimit
from harness.faults.process import ProcessFault
from harness.faults.tcp import Direction, Down, Toxic

__all__ = ["Fault", "FaultError", "Faults", "Target", "Toxic", "UnsupportedByKernel"]

SharedGuard = Callable[[str, str], None]  # (layer, service) -> raise if not allowed


def _allow_all(layer: str, service: str) -> None:
    return None


class Faults:
    """Faults on one stack, scoped to one namespace (an xdist worker's proxies and mock state)."""

    def __init__(
        self, stack: Stack, namespace: str | None = None, *, shared_guard: SharedGuard = _allow_all
    ) -> None:
        self.stack = stack
        self.namespace = namespace
        self.shared_guard = shared_guard
        self.applied: list[Fault] = []
        self.touched: dict[str, Target] = {}
        self.routes: set[str] = set()  # routes of the HTTP fault layer a rule was put on
        self.touched_processes: set[str] = set()
        self.links: set[str] = set()  # proxies between a service under test and its backends
        self.history: list[dict[str, Any]] = []  # every fault applied, for reports

    def _apply(self, fault: Fault) -> Any:
        fault.apply()
        self.applied.append(fault)
        self.history.append(fault.describe())
        return fault

    # -- TCP, via this namespace's Toxiproxy proxies ---------------------------------------
    def _require_proxy(self, service: Any) -> None:
        if not isinstance(service, str):
            raise FaultError(
                f"{getattr(service, 'service', service)} (isolated) has no proxy: "
                "TCP faults act on "
                "the stack's proxies; use a kernel or container fault on an isolated service"
            )
        self.stack.topology.reachable(service)

    def proxy(self, service: str) -> str:
        """The name of this namespace's proxy in front of `service` (created if needed)."""
        self.stack.ensure_proxies([service], self.namespace)
        return self.stack.proxy_name(service, self.namespace)

    def toxic(
        self,
        service: str,
        type: str,
        attributes: dict[str, Any],
        *,
        direction: Direction = "downstream",
        toxicity: float = 1.0,
        via: str | None = None,
    ) -> Toxic:
        """Any Toxiproxy toxic on `service`'s proxy; with `via`, on the link `via` reaches it
        through: a service under test's link to the backend `service`, or with
        `via="prometheus"` the scrape link to the service under test `service` (either is
        shared by every worker's tests)."""
        toxic = Toxic(
            self.stack.toxiproxy,
            self._proxy_for(service, via),
            type,
            attributes,
            direction,
            toxicity,
        )
        return self._apply(toxic)  # type: ignore[no-any-return]

    def _proxy_for(self, service: str, via: str | None) -> str:
        self._require_proxy(service)
        if via is None:
            return self.proxy(service)
        self.stack.check_link(service, via)
        self.shared_guard("tcp", f"{service} as {via} reaches it")
        self.stack.ensure_proxies([service], namespace=via)
        self.links.add(self.stack.proxy_name(service, via))
        return self.stack.proxy_name(service, via)

    def latency(self, service: str, ms: float, jitter: float = 0, **how: Any) -> Toxic:
        """Delay each data chunk by `ms` ± `jitter` milliseconds."""
        return self.toxic(service, "latency", {"latency": ms, "jitter": jitter}, **how)

    def bandwidth(self, service: str, kb_per_s: float, **how: Any) -> Toxic:
        """Limit the rate to `kb_per_s` KB/s (0 stalls the connection)."""
        return self.toxic(service, "bandwidth", {"rate": kb_per_s}, **how)

    def timeout(self, service: str, ms: float = 0, **how: Any) -> Toxic:
        """Stop all data; close after `ms` (0: hold until the fault is cleared)."""
        return self.toxic(service, "timeout", {"timeout": ms}, **how)

    def reset_peer(self, service: str, after_ms: float = 0, **how: Any) -> Toxic:
        """Reset connections (TCP RST) `after_ms` after their first data."""
        return self.toxic(service, "reset_peer", {"timeout": after_ms}, **how)

    def slow_close(self, service: str, delay_ms: float, **how: Any) -> Toxic:
        """Delay the close of each connection."""
        return self.toxic(service, "slow_close", {"delay": delay_ms}, **how)

    def slicer(
        self,
        service: str,
        average_size: int,
        size_variation: int = 0,
        delay_us: int = 0,
        **how: Any,
    ) -> Toxic:
        """Split data into small writes with a delay (µs) between them."""
        attributes = {
            "average_size": average_size,
            "size_variation": size_variation,
            "delay": delay_us,
        }
        return self.toxic(service, "slicer", attributes, **how)

    def limit_data(self, service: str, bytes: int, **how: Any) -> Toxic:
        """Close each connection after `bytes` bytes."""
        return self.toxic(service, "limit_data", {"bytes": bytes}, **how)

    def down(self, service: str, via: str | None = None) -> Down:
        """Refuse new connections to `service` and drop open ones (`via`: as in `toxic`)."""
        down = Down(self.stack.toxiproxy, self._proxy_for(service, via))
        return self._apply(down)  # type: ignore[no-any-return]

    # -- kernel and container: a whole container, so guarded on a shared stack ------------
    def target(self, service: Any, layer: str) -> Target:
        """Resolve a service name (shared stack) or an isolated service to a fault target."""
        if not isinstance(service, str):  # harness._containers.IsolatedService
            isolated = service

            def refresh() -> None:
                isolated.refresh_address()

            return Target(isolated.service, isolated.docker, refresh, shared=False)
        self.stack.topology.reachable(service)
        self.shared_guard(layer, service)
        container = self.stack.containers().get(service)
        if container is None:
            raise FaultError(f"service {service} is not running in stack {self.stack.project}")
        if layer == "kernel" and container.attrs["HostConfig"].get("NetworkMode") == "host":
            raise FaultError(
                f"{service} shares the host's network namespace: a kernel fault there would "
                f"change the host's own; use a TCP fault on its proxy (faults.latency({service!r}, "
                "ms=...), faults.down(...)) or a container fault"
            )
        target = Target(service, container, self.stack.sync_proxies)
        self.touched[service] = target
        return target

    def loss(self, service: Any, percent: float) -> Loss:
        """Drop `percent` % of the packets reaching the service (real packets, kernel)."""
        return self._apply(Loss(self.target(service, "kernel"), percent))  # type: ignore[no-any-return]

    def rate_limit(self, service: Any, kbit: float) -> RateLimit:
        """Limit the service's egress to `kbit` kbit/s (tbf)."""
        return self._apply(RateLimit(self.target(service, "kernel"), kbit))  # type: ignore[no-any-return]

    def partition(self, a: Any, b: Any) -> Partition:
        """Cut every packet between two services, both directions."""
        fault = Partition(self.target(a, "kernel"), self.target(b, "kernel"))
        return self._apply(fault)  # type: ignore[no-any-return]

    def delay(self, service: Any, ms: float, jitter: float = 0) -> Delay:
        """Delay packets leaving the service (netem; not every kernel has it)."""
        return self._apply(Delay(self.target(service, "kernel"), ms, jitter))  # type: ignore[no-any-return]

    def _container(self, service: Any, action: str) -> ContainerFault:
        fault = ContainerFault(self.target(service, "container"), action)  # type: ignore[arg-type]
        return self._apply(fault)  # type: ignore[no-any-return]

    def _host_process(self, service: Any) -> bool:
        sut = self.stack.topology.under_test.get(service) if isinstance(service, str) else None
        return sut is not None and sut.is_process

    def _process(self, service: str, action: str) -> ProcessFault:
        self.shared_guard("process", service)

        def restart() -> None:
            self.stack.start_under_test(service)
            self.stack.sync_proxies()

        fault = ProcessFault(self.stack.process(service), action, restart)  # type: ignore[arg-type]
        self.touched_processes.add(service)
        return self._apply(fault)  # type: ignore[no-any-return]

    def stop(self, service: Any) -> ContainerFault | ProcessFault:
        """Stop the container (cleared: started again, healthy); a host process gets SIGSTOP
        (cleared: SIGCONT)."""
        if self._host_process(service):
            return self._process(service, "stop")
        return self._container(service, "stop")

    def kill(self, service: Any) -> ContainerFault | ProcessFault:
        """SIGKILL the container or host process (cleared: started again, healthy)."""
        if self._host_process(service):
            return self._process(service, "kill")
        return self._container(service, "kill")

    def pause(self, service: Any) -> ContainerFault:
        """Freeze the container (cleared: unpaused, healthy)."""
        return self._container(service, "pause")

    def restart(self, service: Any) -> ContainerFault:
        """Restart the container and wait until it is healthy again."""
        return self._container(service, "restart")

    # -- HTTP, through the HTTP fault layer behind this namespace's proxies -------------------
    def http(
        self,
        service: str,
        *,
        status: int | None = None,
        body: str | None = None,
        headers: dict[str, str] | None = None,
        retry_after: float | None = None,
        delay_ms: float | None = None,
        delay_max_ms: float | None = None,
        delay_sigma: float | None = None,
        delay_at: Literal["headers", "chunks"] | None = None,
        reset: Literal["before_headers", "after_headers"] | None = None,
        truncate: int | None = None,
        corrupt: bool = False,
        body_rate: float | None = None,
        hang: bool = False,
        cut_after: int | None = None,
        method: str | None = None,
        path: str | None = None,
        path_regex: str | None = None,
        match_headers: dict[str, str] | None = None,
        body_contains: str | None = None,
        times: int | None = None,
        every: int | None = None,
        probability: float | None = None,
        via: str | None = None,
    ) -> HttpFault:
        """An HTTP rule on `service` for this namespace's requests (`via`: as in `toxic`).

        Does one thing: `status` (with `body`, `headers`, `retry_after`), `hang` until cleared,
        `reset` before or after the headers, `truncate` the body to N bytes, `corrupt` it, send
        it at `body_rate` bytes/s, or `cut_after` N SSE events / WebSocket messages / chunks; a
        `delay_ms` (fixed; uniform up to `delay_max_ms`; lognormal with `delay_sigma`) before the
        headers or, with `delay_at="chunks"`, between body chunks, alone or with another.
        Matches `method`, `path` (glob) or `path_regex`, `match_headers` (name -> glob) and
        `body_contains`; hits the next `times`, every `every`-th, or with `probability`."""
        rule = {
            key: value for key, value in locals().items() if key not in ("self", "service", "via")
        }
        self._require_proxy(service)
        validate(self.stack.topology, service, rule)  # before any proxy is made
        route = self._proxy_for(service, via)
        fault = HttpFault(self.stack.http_layer.client, service, route, rule)
        self._apply(fault)
        self.routes.add(route)
        return fault

    # -- bookkeeping -------------------------------------------------------------------------
    def active(self) -> list[dict[str, Any]]:
        """Descriptions of the faults applied through this object and not yet cleared."""
        return [fault.describe() for fault in self.applied if fault.active]

    def clear(self) -> None:
        """Revert every fault applied through this object, newest first; errors after all tried."""
        problems: list[str] = []
        while self.applied:
            fault = self.applied.pop()
            try:
                fault.clear()
            except Exception as error:
                problems.append(f"{fault!r}: {error}")
        if problems:
            raise FaultError("could not revert: " + "; ".join(problems))

    def leftovers(self) -> list[str]:
        """Anything of a fault still present where this object acted (should be empty)."""
        reachable = [*self.stack.topology.names, *self.stack.topology.under_test]
        proxies = [self.stack.proxy_name(s, self.namespace) for s in reachable]
        found = tcp.leftovers(self.stack.toxiproxy, [*proxies, *sorted(self.links)])
        for service in self.touched_processes:
            state = self.stack.process(service).state()
            if state != "running":
                found.append(f"{service}: process {state}")
        for target in self.touched.values():
            try:
                target.container.reload()
            except NotFound:
                continue  # removed (an isolated container): nothing of a fault can remain
            state = target.container.attrs["State"]
            if not state.get("Running") or state.get("Paused"):
                found.append(f"{target.service}: container {state.get('Status')}")
            else:
                found += [f"{target.service}: {rule}" for rule in kernel.inspect(target)]
        if self.routes:
            found += http.leftovers(self.stack.http_layer.client, sorted(self.routes))
        return found
