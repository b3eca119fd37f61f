"""Process faults on a service under test that runs on the host: kill, stop and continue.

`kill` is SIGKILL (cleared: started again with the same command, environment and port, and
health-waited); `stop` is SIGSTOP (cleared: SIGCONT, so the process continues where it was).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any, Literal

from harness._process import HostProcess
from harness.faults._base import Fault, require

Action = Literal["kill", "stop"]
ACTIONS: tuple[Action, ...] = ("kill", "stop")


class ProcessFault(Fault):
    """Kill or stop a host process; clearing it brings the process back."""

    layer = "process"

    def __init__(self, process: HostProcess, action: Action, restart: Callable[[], None]) -> None:
        require(action in ACTIONS, f"unknown process fault {action!r}; known: {', '.join(ACTIONS)}")
        super().__init__()
        self.process, self.action, self.restart = process, action, restart

    def _apply(self) -> None:
        require(self.process.alive(), f"service {self.process.name} is not running")
        self.process.signal(signal.SIGKILL if self.action == "kill" else signal.SIGSTOP)

    def _clear(self) -> None:
        if self.action == "stop":
            self.process.signal(signal.SIGCONT)
            return
        self.process.stop(timeout=0)  # reap what is left of its group
        self.restart()

    def describe(self) -> dict[str, Any]:
        return {"layer": self.layer, "fault": self.action, "service": self.process.name}
