"""Run labels on every container, network and volume, and who owns a run."""

from __future__ import annotations

import os
import socket
from pathlib import Path

RUN = "org.mediastack-harness.run"
OWNER = "org.mediastack-harness.owner"
PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
KEPT = "kept"  # owner of a stack started by `harness up`: only an explicit `down` removes it


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def owner_token(pid: int | None = None) -> str:
    """`host:pid:start-time` of the process that owns a run (this one by default)."""
    pid = pid or os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid) or 0}"


def owner_alive(token: str) -> bool:
    """Whether the owning process still runs; runs owned elsewhere or kept count as alive."""
    if token == KEPT:
        return True
    try:
        host, pid, start = token.rsplit(":", 2)
    except ValueError:
        return True
    if host != socket.gethostname():
        return True
    return _start_time(int(pid)) == start
