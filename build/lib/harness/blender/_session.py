"""The parent side of a Blender session: a child process running `_server.py`, JSON lines."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.blender._panel import PanelTree
from harness.errors import HarnessError
from harness.images import BLENDER_TAG

BPY_VERSION = "5.0.1"
BPY_PYTHON = (3, 11)  # each bpy release is built for exactly one Python
IMAGE = BLENDER_TAG
SERVER = Path(__file__).with_name("_server.py")
Clock = Literal["real", "stepped"]


class BlenderError(HarnessError):
    """A Blender session refused a request; the message is one line, details are in the log."""


class BpyUnavailable(BlenderError):
    """Neither this Python nor the image can run bpy."""


class AddonError(BlenderError):
    """The add-on path is missing or is not an add-on."""


class RegisterFailed(BlenderError):
    """The add-on's register() raised; its traceback is in the session log."""


class UnknownOperator(BlenderError):
    """No operator has that idname."""


class UnknownDataPath(BlenderError):
    """The data path does not resolve."""


_KINDS: dict[str, type[BlenderError]] = {
    "bad_addon": AddonError,
    "register_failed": RegisterFailed,
    "unknown_operator": UnknownOperator,
    "unknown_path": UnknownDataPath,
    "unknown_panel": UnknownDataPath,
}


def check_addon(path: str | Path) -> None:
    """Raise `AddonError` unless `path` is a folder or zip holding an add-on."""
    source = Path(path)
    if not source.exists():
        raise AddonError(f"add-on path {path} does not exist")
    if source.is_dir():
        names = [p.name for p in source.iterdir()]
        init = source / "__init__.py"
        legacy = init.is_file() and "bl_info" in init.read_text(errors="replace")
        if not legacy and "blender_manifest.toml" not in names:
            raise AddonError(
                f"{path} is not a Blender add-on: no bl_info in __init__.py and no "
                "blender_manifest.toml"
            )
    elif not zipfile.is_zipfile(source):
        raise AddonError(f"{path} is neither an add-on folder nor a zip")


@dataclass(frozen=True)
class Report:
    """One `self.report()` of an operator."""

    type: str  # INFO, WARNING, ERROR, ...
    message: str


@dataclass(frozen=True)
class OperatorResult:
    """What running an operator returned: its result set, its reports, its error (if any)."""

    result: frozenset[str]
    reports: tuple[Report, ...]
    error: str | None = None

    def messages(self, type: str | None = None) -> list[str]:
        return [r.message for r in self.reports if type is None or r.type == type]


@dataclass(frozen=True)
class Runtime:
    """How the session's process is started: a local Python with bpy, or the image."""

    command: tuple[str, ...]
    in_image: bool = False
    note: str = ""

    def path(self, host_path: str | Path) -> str:
        """A host path as the session's process sees it."""
        absolute = str(Path(host_path).resolve())
        return f"/host{absolute}" if self.in_image else absolute


def _bpy_here() -> bool:
    return sys.version_info[:2] == BPY_PYTHON and importlib.util.find_spec("bpy") is not None


def _image_present() -> bool:
    if shutil.which("docker") is None:
        return False
    found = subprocess.run(
        ["docker", "image", "inspect", IMAGE], capture_output=True, check=False, timeout=30
    )
    return found.returncode == 0


def runtime(python: str | None = None) -> Runtime:
    """Pick where bpy runs: HARNESS_BLENDER_PYTHON (a python, or `image`), this Python, else
    the image."""
    python = python or os.environ.get("HARNESS_BLENDER_PYTHON")
    if python and python != "image":
        return Runtime((python, "-X", "faulthandler"))
    if python != "image" and _bpy_here():
        return Runtime((sys.executable, "-X", "faulthandler"))
    wanted = ".".join(map(str, BPY_PYTHON))
    here = ".".join(map(str, sys.version_info[:3]))
    if python == "image":
        note = f"HARNESS_BLENDER_PYTHON=image: using {IMAGE}"
    elif sys.version_info[:2] != BPY_PYTHON:
        note = f"bpy {BPY_VERSION} needs Python {wanted} (this is {here}): using the image {IMAGE}"
    else:
        note = f"bpy is not installed here (`pip install bpy=={BPY_VERSION}`): using {IMAGE}"
    if not _image_present():
        raise BpyUnavailable(
            f"{note.split(':')[0]}, and the image {IMAGE} is missing: "
            "run `harness images build` (or `make setup`)"
        )
    command = (
        "docker", "run", "-i", "--rm", "--network", "host", "--init",
        "-v", "/:/host:ro", "-e", "BLENDER_USER_RESOURCES=/tmp/blender-user",
        IMAGE, "python", "-X", "faulthandler",
    )  # fmt: skip
    return Runtime(command, in_image=True, note=note)


@dataclass
class Timers:
    """The add-on's `bpy.app.timers`, run by the harness (Blender never fires them headless)."""

    session: Session

    def clock(self, mode: Clock) -> None:
        """Clock "real": timers fire between requests by themselves; "stepped": only on step()."""
        self.session.request("clock", mode=mode)
        self.session.clock = mode

    def step(self, seconds: float = 0.0) -> int:
        """Advance the stepped clock, running every timer that falls due; returns the runs."""
        return int(self.session.request("step", seconds=seconds))

    def run_due(self) -> int:
        """Run the timers due now (on either clock) once."""
        return int(self.session.request("run_timers"))

    def listing(self) -> list[dict[str, Any]]:
        """Registered timers: name and seconds until due."""
        return list(self.session.request("timers"))


@dataclass
class Session:
    """One Blender (bpy) process with factory settings, driven over a pipe.

    Use as a context manager, or call `close()`. Every request either answers or raises a
    `BlenderError` whose message is one line; `log` holds everything the process printed.
    """

    clock: Clock = "real"
    python: str | None = None
    timeout: float = 60.0
    log_lines: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.runtime = runtime(self.python)
        self._user = tempfile.mkdtemp(prefix="harness-blender-user-")
        env = {**os.environ, "BLENDER_USER_RESOURCES": self._user, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            [*self.runtime.command, self.runtime.path(SERVER), self.clock],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        self._lock = threading.Lock()
        self._ids = 0
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        self.timers = Timers(self)
        self.started = time.monotonic()
        try:
            hello = self._receive()
        except BlenderError:
            shutil.rmtree(self._user, ignore_errors=True)
            if any("No module named 'bpy'" in line for line in self.log_lines):
                raise BpyUnavailable(
                    f"{self.runtime.command[0]} cannot import bpy: bpy {BPY_VERSION} needs "
                    f"Python {'.'.join(map(str, BPY_PYTHON))} (`pip install bpy=={BPY_VERSION}` "
                    f"there), or HARNESS_BLENDER_PYTHON=image uses {IMAGE}"
                ) from None
            raise
        self.version = str(hello.get("version", "?"))
        self.modules: list[str] = []

    # -- plumbing ------------------------------------------------------------------------
    def _read_log(self) -> None:
        assert self._process.stderr is not None
        for raw in self._process.stderr:
            self.log_lines.append(raw.decode(errors="replace").rstrip("\n"))

    def _receive(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._process.wait(timeout=10)
            self._reader.join(timeout=5)
            tail = "; ".join(self.log_lines[-3:])
            raise BlenderError(
                f"the Blender session exited (status {self._process.returncode}): {tail}"
            )
        return dict(json.loads(line))

    def request(self, op: str, **arguments: Any) -> Any:
        """Send one request and return its value; a refusal raises its `BlenderError`."""
        with self._lock:
            self._ids += 1
            assert self._process.stdin is not None
            try:
                self._process.stdin.write(
                    (json.dumps({"id": self._ids, "op": op, **arguments}) + "\n").encode()
                )
                self._process.stdin.flush()
            except BrokenPipeError:
                raise BlenderError("the Blender session is gone (see its log)") from None
            answer = self._receive()
        if not answer.get("ok"):
            raise _KINDS.get(str(answer.get("kind")), BlenderError)(str(answer.get("error")))
        return answer.get("value")

    @property
    def log(self) -> str:
        """Everything the session printed: Blender, the add-on's prints and logging."""
        return "\n".join(self.log_lines)

    def tracebacks(self) -> list[str]:
        """Tracebacks raised by the add-on: register(), operators, timers, panels, threads."""
        return list(self.request("tracebacks"))

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._reader.join(timeout=5)
        shutil.rmtree(self._user, ignore_errors=True)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the API ---------------------------------------------------------------------------
    def enable(self, path: str | Path) -> str:
        """Install and enable an add-on (folder or zip; bl_info or extension); its module name."""
        check_addon(path)
        module = str(self.request("enable", path=self.runtime.path(path))["module"])
        self.modules.append(module)
        return module

    def preferences(self, module: str, **values: Any) -> dict[str, Any]:
        """Set some of an add-on's preferences; returns all of them."""
        return dict(self.request("preferences", module=module, values=values))

    def operator(self, idname: str, *, invoke: bool = False, **properties: Any) -> OperatorResult:
        """Run `bpy.ops.<idname>(**properties)`: result set, reports and error."""
        value = self.request("operator", idname=idname, properties=properties, invoke=invoke)
        return OperatorResult(
            frozenset(value["result"]),
            tuple(Report(r["type"], r["message"]) for r in value["reports"]),
            value["error"],
        )

    def get(self, path: str) -> Any:
        """Read an RNA value by data path, e.g. `bpy.context.scene.frame_end`."""
        return self.request("get", path=path)

    def set(self, path: str, value: Any) -> Any:
        """Write an RNA value by data path; returns the value read back."""
        return self.request("set", path=path, value=value)

    def panel(self, idname: str) -> PanelTree:
        """Poll a panel and record what its draw() shows."""
        return PanelTree(self.request("panel", idname=idname))

    def panels(self) -> list[str]:
        """Panels registered by add-ons (not Blender's own UI)."""
        return list(self.request("panels"))

    def execute(self, code: str) -> Any:
        """Run Python in the session; the value of a trailing expression comes back."""
        return self.request("exec", code=code)

    def wait_for(self, path: str, condition: Callable[[Any], bool], timeout: float = 30.0) -> Any:
        """Read `path` until `condition(value)` holds (timers keep running meanwhile)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.get(path)
            if condition(value):
                return value
            if time.monotonic() > deadline:
                raise BlenderError(f"{path} is still {value!r} after {timeout:g} s")
            if self.clock == "stepped":
                self.timers.step(0.05)
            else:
                time.sleep(0.02)  # polling interval of a condition wait, not a synchronisation
