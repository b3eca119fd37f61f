"""What a kernel or container fault acts on: one container, and what to do once it recovers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from docker.models.containers import Container

from harness import _events
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
        while True:
            self.container.reload()
            state = self.container.attrs["State"]
            health = state.get("Health", {}).get("Status")
            if state.get("Running") and not state.get("Paused") and health in ("healthy", None):
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
