"""Container faults: stop, kill (SIGKILL), pause, restart — each recovering to healthy."""

from __future__ import annotations

from typing import Any, Literal

from docker.errors import APIError, NotFound
from docker.models.containers import Container

from harness import _events
from harness.faults._base import Fault, require
from harness.faults._target import Target

Action = Literal["stop", "kill", "pause", "restart"]
ACTIONS: tuple[Action, ...] = ("stop", "kill", "pause", "restart")

# Docker picks a restarted container's host ports anew from its own allocator, which knows
# nothing of ports other programs hold (another engine's published block, a client socket);
# it tries 10 ports per start, so each start again moves 10 further.
_PORT_TAKEN = ("address already in use", "port is already allocated")
_START_ATTEMPTS = 6


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
            start(self.target.service, self.target.container)
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
        start(target.service, target.container)
    target.wait_healthy()
    return True


def start(service: str, container: Container) -> None:
    """Start a stopped container, starting again while the engine reports that the host port it
    chose is held by another program (each start moves its allocator past the ports it tried)."""
    for attempt in range(1, _START_ATTEMPTS + 1):
        try:
            container.start()
            return
        except APIError as error:
            if attempt == _START_ATTEMPTS or not any(t in str(error) for t in _PORT_TAKEN):
                raise
            _events.emit("port taken", service=service, attempt=attempt, error=str(error))
