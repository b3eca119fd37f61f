"""What a kernel or container fault acts on: one container, and what to do once it recovers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from docker.models.containers import Container

from harness import _events
from harness._stack import health as health_checks
from harness.faults._base import FaultError


@dataclass
class Target:
    """A service's container (shared stack or isolated) and a hook run after it recovers."""

    service: str
    container: Container
    on_recovered: Callable[[], None] = field(default=lambda: None)
    shared: bool = True

    def wait_healthy(self, timeout: float = 120.0) -> None:
        """Poll Docker's health status until healthy; fail naming the service."""
        deadline = time.monotonic() + timeout
        own = health_checks.container_check(self.container)  # Podman may never run it
        while True:
            self.container.reload()
            state = self.container.attrs["State"]
            health = (state.get("Health") or {}).get("Status") or None
            running = state.get("Running") and not state.get("Paused")
            if running and health == "starting" and own is not None and own():
                health = "healthy"
            if running and health in ("healthy", None):
                _events.emit("health", service=self.service, state="healthy", shared=self.shared)
                self.on_recovered()
                return
            if time.monotonic() > deadline:
                raise FaultError(f"{self.service} not healthy {timeout:.0f} s after recovery")
            time.sleep(0.1)

    def ip_address(self, peer: Target) -> str:
        """This container's address on a network it shares with `peer`."""
        mine = self.container.attrs["NetworkSettings"]["Networks"]
        theirs = peer.container.attrs["NetworkSettings"]["Networks"]
        shared = sorted(set(mine) & set(theirs))
        if not shared:
            raise FaultError(f"{self.service} and {peer.service} share no network to partition")
        return str(mine[shared[0]]["IPAddress"])
