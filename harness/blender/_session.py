"""The parent side of a Blender session: a child process running `_server.py`, JSON lines."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import queue
import re
import shutil
import signal
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

from harness._errors import HarnessError
from harness._images import BLENDER_TAG
from harness._optional import install_hint
from harness.blender._panel import PanelTree

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


class RequestTimeout(BlenderError):
    """A request did not answer by its deadline; the session was restarted."""


_KINDS: dict[str, type[BlenderError]] = {
    "bad_addon": AddonError,
    "register_failed": RegisterFailed,
    "unknown_operator": UnknownOperator,
    "unknown_path": UnknownDataPath,
    "unknown_panel": UnknownDataPath,
    "unknown_modal": UnknownOperator,
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
class ModalResult(OperatorResult):
    """How a modal operator ended: FINISHED or CANCELLED, every report of its life (the
    starting call's and its modal()'s), and the events it was given."""

    events: int = 0


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
        note = f"bpy is not installed here (`{install_hint('blender')}`): using {IMAGE}"
    if not _image_present():
        raise BpyUnavailable(
            f"{note.split(':')[0]}, and the image {IMAGE} is missing: "
            "run `harness images build blender` (a project with a [blender] table builds it "
            "with `harness images build`)"
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
        """Registered timers, app (`bpy.app.timers`) and event (`wm.event_timer_add`) alike:
        name, kind ("app" or "event") and seconds until due."""
        return list(self.session.request("timers"))


_FRAME = re.compile(r'^\s+File "(?P<path>.+)", line (?P<line>\d+) in (?P<function>.+)$')


def _where(dump: list[str]) -> str:
    """From a faulthandler dump of all threads: where the main thread (the one serving the
    request) is, as the add-on's innermost frame and the innermost frame of all."""
    blocks: list[list[re.Match[str]]] = []
    for line in dump:
        if line.startswith(("Thread 0x", "Current thread 0x")):
            blocks.append([])
        elif blocks and (frame := _FRAME.match(line)):
            blocks[-1].append(frame)
    main = [b for b in blocks if any(f["path"].endswith("_server.py") for f in b)]
    if not main or not main[0]:
        return "an unknown place (no stack dump)"

    def short(path: str) -> str:
        for marker in ("/addons/", "/extensions/"):
            if marker in path:
                return path.split(marker, 1)[1]
        return Path(path).name

    frames = main[0]
    own = [
        f
        for f in frames
        if not f["path"].endswith("_server.py")
        and "/lib/python3" not in f["path"]
        and "/bpy/" not in f["path"]
    ]
    first = own[0] if own else frames[0]
    text = f"{first['function']}() at {short(first['path'])}:{first['line']}"
    if frames[0] is not first:
        inner = frames[0]
        text += f", inside {inner['function']}() at {short(inner['path'])}:{inner['line']}"
    return text


def _describe(op: str, arguments: dict[str, Any]) -> str:
    """A request as the timeout message names it."""
    named = {
        "operator": lambda: f"operator {arguments['idname']}",
        "get": lambda: f"get {arguments['path']}",
        "set": lambda: f"set {arguments['path']}",
        "enable": lambda: f"enabling the add-on {arguments['path']}",
        "preferences": lambda: f"preferences of {arguments['module']}",
        "panel": lambda: f"panel {arguments['idname']}",
        "step": lambda: f"timers.step({arguments['seconds']:g})",
        "wait_modal": lambda: f"waiting for modal operator {arguments['idname']}",
        "exec": lambda: "execute({!r})".format(str(arguments["code"]).splitlines()[0][:60]),
    }
    return named[op]() if op in named else f"request {op!r}"


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
        self.timers = Timers(self)
        self.modules: list[str] = []
        self._enabled: list[tuple[str, str]] = []  # (path as the process sees it, module)
        self._preferences: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._ids = 0
        self._start()

    # -- plumbing ------------------------------------------------------------------------
    def _start(self) -> None:
        """Start the process and wait for its hello (within the start deadline)."""
        self._user = tempfile.mkdtemp(prefix="harness-blender-user-")
        env = {**os.environ, "BLENDER_USER_RESOURCES": self._user, "PYTHONUNBUFFERED": "1"}
        command = list(self.runtime.command)
        self._container = f"harness-blender-{os.getpid()}-{id(self):x}-{time.monotonic_ns()}"
        if self.runtime.in_image:
            command[2:2] = ["--name", self._container]  # after `docker run`: to signal it
        self._process = subprocess.Popen(
            [*command, self.runtime.path(SERVER), self.clock],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        self._answers: queue.Queue[bytes | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        threading.Thread(target=self._read_answers, daemon=True).start()
        self.started = time.monotonic()
        try:
            hello = self._receive(time.monotonic() + max(self.timeout, 120.0))
        except BlenderError:
            self._kill()
            shutil.rmtree(self._user, ignore_errors=True)
            if any("No module named 'bpy'" in line for line in self.log_lines):
                raise BpyUnavailable(
                    f"{self.runtime.command[0]} cannot import bpy: bpy {BPY_VERSION} needs "
                    f"Python {'.'.join(map(str, BPY_PYTHON))} (`pip install bpy=={BPY_VERSION}` "
                    f"there), or HARNESS_BLENDER_PYTHON=image uses {IMAGE}"
                ) from None
            raise
        self.version = str(hello.get("version", "?"))

    def _read_log(self) -> None:
        assert self._process.stderr is not None
        for raw in self._process.stderr:
            self.log_lines.append(raw.decode(errors="replace").rstrip("\n"))

    def _read_answers(self) -> None:
        process, answers = self._process, self._answers
        assert process.stdout is not None
        for line in process.stdout:
            answers.put(line)
        answers.put(None)

    def _receive(self, deadline: float) -> dict[str, Any]:
        try:
            line = self._answers.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError from None
        if line is None:
            self._process.wait(timeout=10)
            self._reader.join(timeout=5)
            tail = "; ".join(self.log_lines[-3:])
            raise BlenderError(
                f"the Blender session exited (status {self._process.returncode}): {tail}"
            )
        return dict(json.loads(line))

    def _signal(self, number: signal.Signals) -> None:
        if self._process.poll() is not None:
            return
        if self.runtime.in_image:
            subprocess.run(
                ["docker", "kill", "--signal", number.name, self._container],
                capture_output=True, check=False, timeout=30,
            )  # fmt: skip
        if number == signal.SIGKILL or not self.runtime.in_image:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, number)  # its own session: the group is its

    def _kill(self) -> None:
        self._signal(signal.SIGKILL)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._reader.join(timeout=5)

    def _stack_dump(self) -> list[str]:
        """Ask the process where it is (faulthandler on SIGUSR1); the dump's log lines."""
        mark = len(self.log_lines)
        self._signal(signal.SIGUSR1)
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline and self._process.poll() is None:
            dump = self.log_lines[mark:]
            if any('_server.py", line' in line and "<module>" in line for line in dump):
                return dump
            time.sleep(0.02)  # polling interval of the dump wait (deadline above)
        return self.log_lines[mark:]

    def _hung(self, what: str, timeout: float, since: int) -> RequestTimeout:
        """The request did not answer: find where it is, restart, and say so in one line."""
        said = [line.strip() for line in self.log_lines[since:] if line.strip()]
        where = _where(self._stack_dump())
        tail = " | ".join(line[:160] for line in said[-3:]) or "(nothing)"
        message = (
            f"{what} did not answer within {timeout:g} s: the add-on was in {where}; "
            f"its last log lines: {tail}"
        )
        self.log_lines.append(f"[harness] {message}; restarting the session")
        self._kill()
        shutil.rmtree(self._user, ignore_errors=True)
        try:
            self._restart()
        except BlenderError as error:
            return RequestTimeout(f"{message}; the session could not be restarted: {error}")
        return RequestTimeout(f"{message}; the session was restarted (see the log)")

    def _restart(self) -> None:
        """A fresh process with the same add-ons enabled and preferences set."""
        self._start()
        for path, module in self._enabled:
            self._call("enable", {"path": path}, self.timeout)
            if module in self._preferences:
                values = self._preferences[module]
                self._call("preferences", {"module": module, "values": values}, self.timeout)

    def _call(self, op: str, arguments: dict[str, Any], timeout: float) -> dict[str, Any]:
        """One request and its answer, or TimeoutError at the deadline (lock held)."""
        self._ids += 1
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(
                (json.dumps({"id": self._ids, "op": op, **arguments}) + "\n").encode()
            )
            self._process.stdin.flush()
        except BrokenPipeError:
            raise BlenderError("the Blender session is gone (see its log)") from None
        deadline = time.monotonic() + timeout
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._ids:
                return answer

    def request(self, op: str, *, timeout: float | None = None, **arguments: Any) -> Any:
        """Send one request and return its value; a refusal raises its `BlenderError`. Past
        `timeout` seconds (default: the session's `timeout`) it raises `RequestTimeout`, naming
        the request and where the add-on was, and restarts the session."""
        limit = self.timeout if timeout is None else timeout
        with self._lock:
            since = len(self.log_lines)
            try:
                answer = self._call(op, arguments, limit)
            except TimeoutError:
                raise self._hung(_describe(op, arguments), limit, since) from None
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
            with contextlib.suppress(BrokenPipeError):
                self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._kill()
        self._reader.join(timeout=5)
        shutil.rmtree(self._user, ignore_errors=True)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the API ---------------------------------------------------------------------------
    # Calls take `timeout=` (seconds; default: the session's `timeout`), but preferences().
    def enable(self, path: str | Path, *, timeout: float | None = None) -> str:
        """Install and enable an add-on (folder or zip; bl_info or extension); its module name."""
        check_addon(path)
        seen = self.runtime.path(path)
        module = str(self.request("enable", timeout=timeout, path=seen)["module"])
        self.modules.append(module)
        self._enabled.append((seen, module))
        return module

    def preferences(self, module: str, **values: Any) -> dict[str, Any]:
        """Set some of an add-on's preferences; returns all of them. A name the add-on does
        not declare raises `UnknownDataPath` naming those it does."""
        current = dict(self.request("preferences", module=module, values=values))
        if values:
            self._preferences.setdefault(module, {}).update(values)
        return current

    def operator(
        self,
        idname: str,
        *,
        invoke: bool = False,
        timeout: float | None = None,
        properties: dict[str, Any] | None = None,
        **more: Any,
    ) -> OperatorResult:
        """Run `bpy.ops.<idname>(**properties)` ('INVOKE_DEFAULT' with `invoke=True`: the
        operator's invoke() gets an event, as with a window): result set, reports and error.
        Properties named `invoke`, `timeout` or `properties` go in `properties={...}`.
        A modal operator answers {'RUNNING_MODAL'}; `wait_modal()` waits for its end."""
        value = self.request(
            "operator",
            timeout=timeout,
            idname=idname,
            properties={**(properties or {}), **more},
            invoke=invoke,
        )
        return OperatorResult(
            frozenset(value["result"]),
            tuple(Report(r["type"], r["message"]) for r in value["reports"]),
            value["error"],
        )

    def wait_modal(self, idname: str, timeout: float = 30.0) -> ModalResult:
        """Run the session's event loop until the modal operator `idname` (the newest running
        one, else the last that ended) ends; its result set, every report of its life and the
        events it got. Within `timeout` seconds of the session's clock: on the stepped clock
        they are stepped through (TIMER events in due order), on the real clock waited.
        Still running then: `BlenderError` with the add-on's last log lines."""
        since = len(self.log_lines)
        value = self.request(
            "wait_modal", timeout=timeout + self.timeout, idname=idname, seconds=timeout
        )
        if value["running"]:
            said = [line.strip() for line in self.log_lines[since:] if line.strip()]
            tail = " | ".join(line[:160] for line in said[-3:]) or "(nothing)"
            raise BlenderError(
                f"modal operator {idname} is still running after {timeout:g} s "
                f"({value['events']} event(s) given; its last log lines: {tail})"
            )
        return ModalResult(
            frozenset(value["result"]),
            tuple(Report(r["type"], r["message"]) for r in value["reports"]),
            value["error"],
            int(value["events"]),
        )

    def modals(self) -> list[dict[str, Any]]:
        """The running modal operators, newest first: idname, events given, reports so far."""
        return list(self.request("modals"))

    def get(self, path: str, *, timeout: float | None = None) -> Any:
        """Read an RNA value by data path, e.g. `bpy.context.scene.frame_end`."""
        return self.request("get", timeout=timeout, path=path)

    def set(self, path: str, value: Any, *, timeout: float | None = None) -> Any:
        """Write an RNA value by data path; returns the value read back."""
        return self.request("set", timeout=timeout, path=path, value=value)

    def panel(self, idname: str, *, timeout: float | None = None) -> PanelTree:
        """Poll a panel and record what its draw() shows."""
        return PanelTree(self.request("panel", timeout=timeout, idname=idname))

    def panels(self) -> list[str]:
        """Panels registered by add-ons (not Blender's own UI)."""
        return list(self.request("panels"))

    def execute(self, code: str, *, timeout: float | None = None) -> Any:
        """Run Python in the session; the value of a trailing expression comes back."""
        return self.request("exec", timeout=timeout, code=code)

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
