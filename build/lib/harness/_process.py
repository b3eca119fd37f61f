"""Services under test that run as host processes: started, signalled, logged, always stopped.

Each process gets a session (process group) of its own and a record under the run's state
directory, so any xdist worker, the CLI and the reaper can find, signal and stop it. A process of
a test run (not a kept `harness up` stack) also dies with the process that started it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from harness import _paths

_PR_SET_PDEATHSIG = 1


def run_dir(run: str) -> Path:
    """Where a run's process records and logs live."""
    path = _paths.state_dir() / "runs" / run
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class ProcessRecord:
    """What is known of a started process."""

    name: str
    pid: int
    port: int
    log: str
    command: list[str]
    cwd: str


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class HostProcess:
    """One service under test's process in one run."""

    def __init__(self, run: str, name: str) -> None:
        self.run, self.name = run, name
        self.record_path = run_dir(run) / f"{name}.process.json"
        self.log_path = run_dir(run) / f"{name}.log"
        self._child: subprocess.Popen[bytes] | None = None  # set when this object started it

    @property
    def record(self) -> ProcessRecord | None:
        """The record of its last start, if any."""
        if not self.record_path.is_file():
            return None
        return ProcessRecord(**json.loads(self.record_path.read_text()))

    def start(
        self, command: list[str], cwd: Path, env: dict[str, str], port: int, *, kept: bool
    ) -> ProcessRecord:
        """Start it (output appended to its log); it dies with this process unless `kept`."""
        log = self.log_path.open("ab")
        try:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=None if kept else _die_with_parent,
            )
        finally:
            log.close()
        record = ProcessRecord(self.name, process.pid, port, str(self.log_path), command, str(cwd))
        self.record_path.write_text(json.dumps(asdict(record)))
        self._child = process
        return record

    def exit_code(self) -> int | None:
        """Its exit status once it ended (None while running or when another process owns it)."""
        return None if self._child is None else self._child.poll()

    def alive(self) -> bool:
        """Whether its process still exists (stopped counts as alive)."""
        record = self.record
        if record is None or self.exit_code() is not None:
            return False
        try:
            os.kill(record.pid, 0)
        except ProcessLookupError:
            return False
        return not _is_zombie(record.pid)

    def state(self) -> str:
        """`running`, `stopped` (SIGSTOP), or `exited`."""
        record = self.record
        if record is None or not self.alive():
            return "exited"
        return "stopped" if _proc_state(record.pid) == "T" else "running"

    def signal(self, signum: int) -> None:
        """Send a signal to its whole process group."""
        record = self.record
        if record is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(record.pid, signum)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (after SIGCONT, were it stopped), then SIGKILL once `timeout` runs out."""
        if self.record is None:
            return
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.alive():
            self.signal(signal.SIGKILL)
        if self._child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._child.wait(timeout=5)

    def logs(self, tail: int = 50) -> str:
        """Its last `tail` output lines."""
        if not self.log_path.is_file():
            return "(no output yet)"
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-tail:])


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"


def _is_zombie(pid: int) -> bool:
    return _proc_state(pid) in ("Z", "X")


def stop_all(run: str) -> int:
    """Stop every process recorded for `run`; returns how many were alive."""
    directory = _paths.state_dir() / "runs" / run
    stopped = 0
    for path in sorted(directory.glob("*.process.json")) if directory.is_dir() else []:
        process = HostProcess(run, path.name.removesuffix(".process.json"))
        if process.alive():
            stopped += 1
        process.stop()
    return stopped
