"""Container faults: stop, kill (SIGKILL), pause, restart — each recovering to healthy."""

from __future__ import annotations

from typing import Any, Literal

from docker.errors import NotFound

from harness.faults._base import Fault, require
from harness.faults._target import Target

Action = Literal["stop", "kill", "pause", "restart"]
ACTIONS: tuple[Action, ...] = ("stop", "kill", "pause", "restart")


class ContainerFault(Fault):
    """Break a container; clearing it brings the container back and waits until healthy.

    `restart` is an event rather than a state: applying it restarts the container and waits until
    healthy again; clearing it does nothing.
    """

    layer = "container"

    def __init__(self, target: Target, action: Action, health_timeout: float = 120.0) -> None:
        require(
            action in ACTIONS, f"unknown container fault {action!r}; known: {', '.join(ACTIONS)}"
        )
        super().__init__()
        self.target, self.action, self.health_timeout = target, action, health_timeout

    def _apply(self) -> None:
        container = self.target.container
        if self.action == "stop":
            container.stop(timeout=3)
        elif self.action == "kill":
            container.kill()
        elif self.action == "pause":
            container.pause()
        else:
            container.restart(timeout=3)
            self.target.wait_healthy(self.health_timeout)

    def _clear(self) -> None:
        if self.action == "restart":
            return  # an event: nothing stays broken
        try:
            self.target.container.reload()
        except NotFound:
            return  # the container is gone (an isolated one, removed first): nothing to revert
        state = self.target.container.attrs["State"]
        if state.get("Paused"):
            self.target.container.unpause()
        elif not state.get("Running"):
            self.target.container.start()
        self.target.wait_healthy(self.health_timeout)

    def describe(self) -> dict[str, Any]:
        return {"layer": self.layer, "fault": self.action, "service": self.target.service}


def recover(target: Target) -> bool:
    """Start or unpause a broken container and wait until healthy; True if it was broken."""
    target.container.reload()
    state = target.container.attrs["State"]
    if state.get("Running") and not state.get("Paused"):
        return False
    if state.get("Paused"):
        target.container.unpause()
    else:
        target.container.start()
    target.wait_healthy()
    return True
