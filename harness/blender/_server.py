"""The Blender side of a session: run by a Python that has `bpy`, never imported by pytest.

It reads one JSON request per line on stdin and answers one JSON line on the original stdout;
everything else the process prints (Blender's own output, the add-on's prints and logging) goes
to stderr, which the parent keeps as the session log. Between requests it runs the add-on's
`bpy.app.timers`, its window-manager event timers and their modal operators (see `Loop`) when the
clock is "real"; with the clock "stepped" they run only on `step`.

Standalone on purpose (stdlib + bpy only): it also runs inside the `mediastack-harness/blender`
image, where nothing of the harness is installed.
"""

from __future__ import annotations

import ast
import contextlib
import ctypes
import faulthandler
import functools
import io
import itertools
import json
import logging
import math
import os
import selectors
import shutil
import signal
import sys
import tempfile
import threading
import time
import tomllib
import traceback
import zipfile
from pathlib import Path
from typing import Any

_PROTOCOL = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)  # C-level prints (Blender's) go to the log, not into the protocol
sys.stdout = sys.stderr

import bpy  # noqa: E402  (after the redirect: bpy prints at import)

_LIBC = ctypes.CDLL(None)
_REPORT_KINDS = {
    "Debug": "DEBUG",
    "Info": "INFO",
    "Operator": "OPERATOR",
    "Property": "PROPERTY",
    "Warning": "WARNING",
    "Error": "ERROR",
    "Error (Invalid Input)": "ERROR_INVALID_INPUT",
    "Error (Invalid Context)": "ERROR_INVALID_CONTEXT",
    "Error (Out of Memory)": "ERROR_OUT_OF_MEMORY",
}
TRACEBACKS: list[str] = []
ENABLED: list[str] = []  # add-on modules enabled through the harness


class Failure(Exception):
    """A request that cannot be served: `kind` and a one-line message go back to the parent."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _log_traceback(where: str) -> str:
    text = traceback.format_exc()
    TRACEBACKS.append(f"{where}\n{text}")
    sys.stderr.write(f"[harness] {where}\n{text}")
    return text


# -- values --------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """A JSON-able picture of an RNA value (IDs by name, arrays as lists, sets sorted)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, set | frozenset):
        return sorted(plain(item) for item in value)
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, bpy.types.ID):
        return {"id": type(value).__name__, "name": value.name}
    if isinstance(value, list | tuple) or (
        hasattr(value, "__len__") and hasattr(value, "__getitem__")
    ):
        try:
            return [plain(item) for item in value]
        except TypeError:
            pass
    if isinstance(value, bpy.types.bpy_struct):
        return {"struct": type(value).__name__, "path": _struct_path(value)}
    return repr(value)


def _struct_path(value: Any) -> str | None:
    try:
        return value.path_from_id()
    except (ValueError, AttributeError, TypeError):
        return None


# -- data paths ----------------------------------------------------------------------------
_ROOTS = {"bpy": bpy}


def _check_path(path: str) -> ast.expr:
    try:
        node = ast.parse(path, mode="eval").body
    except SyntaxError:
        raise Failure("unknown_path", f"not a data path: {path!r}") from None
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call | ast.Lambda | ast.NamedExpr) or (
            isinstance(sub, ast.Name) and sub.id not in _ROOTS
        ):
            raise Failure(
                "unknown_path",
                f"not a data path: {path!r} (write it like bpy.context.scene.frame_start)",
            )
    return node


def _evaluate(node: ast.expr, path: str) -> Any:
    try:
        return eval(compile(ast.Expression(node), path, "eval"), dict(_ROOTS))
    except (AttributeError, KeyError, IndexError, TypeError) as error:
        raise Failure("unknown_path", f"unknown data path {path!r}: {error}") from None


def get(path: str) -> Any:
    return plain(_evaluate(_check_path(path), path))


def set_(path: str, value: Any) -> Any:
    node = _check_path(path)
    if isinstance(node, ast.Attribute):
        owner = _evaluate(node.value, path)
        if not hasattr(owner, node.attr):
            raise Failure("unknown_path", f"unknown data path {path!r}: no {node.attr!r}")
        try:
            setattr(owner, node.attr, value)
        except (TypeError, ValueError, AttributeError) as error:
            raise Failure("bad_value", f"cannot set {path} to {value!r}: {error}") from None
    elif isinstance(node, ast.Subscript):
        owner = _evaluate(node.value, path)
        key = _evaluate(node.slice, path)
        try:
            owner[key] = value
        except (TypeError, ValueError, KeyError, IndexError) as error:
            raise Failure("bad_value", f"cannot set {path} to {value!r}: {error}") from None
    else:
        raise Failure("unknown_path", f"not an assignable data path: {path!r}")
    return get(path)


# -- operators -----------------------------------------------------------------------------
def _operator(idname: str) -> Any:
    module, _, name = idname.partition(".")
    try:
        function = getattr(getattr(bpy.ops, module), name)
        function.get_rna_type()
    except (AttributeError, KeyError):
        raise Failure("unknown_operator", f"unknown operator {idname!r}") from None
    return function


def _parse_reports(text: str) -> tuple[list[dict[str, str]], list[str]]:
    reports: list[dict[str, str]] = []
    other: list[str] = []
    for line in text.splitlines():
        head, sep, message = line.partition(": ")
        if sep and head in _REPORT_KINDS:
            reports.append({"type": _REPORT_KINDS[head], "message": message})
        elif reports and reports[-1]["type"].startswith("ERROR") and line.strip():
            reports[-1]["message"] += "\n" + line
        else:
            other.append(line)
    return reports, other


def operator(idname: str, properties: dict[str, Any], invoke: bool = False) -> dict[str, Any]:
    """Run an operator; Blender prints its reports on fd 1 in background mode: read them there."""
    function = _operator(idname)
    before = {id(handler) for handler in LOOP.handlers}
    sys.stderr.flush()
    saved, printed = os.dup(1), io.StringIO()
    sys.stdout = printed  # bpy.ops writes the reports through Python's stdout
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 1)
        error = None
        try:
            args = ("INVOKE_DEFAULT",) if invoke else ()
            result = sorted(function(*args, **properties))
        except RuntimeError as raised:
            result, error = ["CANCELLED"], str(raised).strip()
        except TypeError as raised:
            raise Failure("bad_value", f"{idname}: {raised}") from None
        finally:
            _LIBC.fflush(None)
            sys.stdout = sys.stderr
            os.dup2(saved, 1)
            os.close(saved)
        capture.seek(0)
        text = capture.read().decode(errors="replace") + printed.getvalue()
    reports, other = _parse_reports(text)
    if other:
        sys.stderr.write("\n".join(other) + "\n")
    if error and "Traceback" in error:
        TRACEBACKS.append(f"operator {idname}\n{error}")
        sys.stderr.write(f"[harness] operator {idname} raised\n{error}\n")
    if "RUNNING_MODAL" in result:
        LOOP.started(before, reports)
    return {"result": result, "reports": reports, "error": error}


# -- add-ons -------------------------------------------------------------------------------
def _manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / "blender_manifest.toml"
    return tomllib.loads(path.read_text()) if path.is_file() else None


def _has_bl_info(folder: Path) -> bool:
    init = folder / "__init__.py"
    return init.is_file() and "bl_info" in init.read_text(errors="replace")


def _unpack(path: Path) -> Path:
    if path.is_dir():
        return path
    target = Path(tempfile.mkdtemp(prefix="harness-addon-"))
    with zipfile.ZipFile(path) as archive:
        archive.extractall(target)
    entries = [entry for entry in target.iterdir() if entry.name != "__MACOSX"]
    if not (target / "__init__.py").exists() and len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return target


def enable(path: str) -> dict[str, Any]:
    """Install a folder or zip (legacy `bl_info` add-on or extension) and enable it."""
    source = Path(path)
    if not source.exists():
        raise Failure("bad_addon", f"add-on path {path} does not exist")
    folder = _unpack(source)
    manifest = _manifest(folder)
    if manifest is not None:
        addon_id = manifest.get("id") or folder.name
        repo = Path(bpy.utils.user_resource("EXTENSIONS", path="user_default", create=True))
        module = f"bl_ext.user_default.{addon_id}"
        target = repo / addon_id
    elif _has_bl_info(folder):
        addons = Path(bpy.utils.user_resource("SCRIPTS", path="addons", create=True))
        module = folder.name if folder != source or source.is_dir() else source.stem
        target = addons / module
    else:
        raise Failure(
            "bad_addon",
            f"{path} is not a Blender add-on: no bl_info in __init__.py and no "
            "blender_manifest.toml",
        )
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    raised: list[str] = []

    def handle_error(error: BaseException) -> None:
        raised.append(f"{type(error).__name__}: {error}")
        _log_traceback(f"enabling add-on {module} raised")

    import addon_utils

    if manifest is None and str(target.parent) not in sys.path:
        sys.path.append(str(target.parent))  # created after start: Blender did not add it
    addon_utils.modules_refresh()
    addon_utils.enable(module, default_set=True, handle_error=handle_error)
    if raised:
        raise Failure(
            "register_failed", f"register() of add-on {module} raised {raised[0]} (see the log)"
        )
    if module not in bpy.context.preferences.addons:
        raise Failure("register_failed", f"add-on {module} did not enable (see the log)")
    ENABLED.append(module)
    return {"module": module, "legacy": manifest is None}


def _coerce(rna_type: str, value: Any) -> Any:
    """Preferences from text templates: "1.5" for a float, "true" for a bool ..."""
    if not isinstance(value, str):
        return value
    if rna_type == "FLOAT":
        return float(value)
    if rna_type == "INT":
        return int(value)
    if rna_type == "BOOLEAN":
        return value.strip().lower() in ("1", "true", "yes", "on")
    return value


def _undeclared(module: str, cls: Any, name: str) -> str:
    """One line: the preference is not an RNA property of the add-on; what it declares."""
    declared = [
        key
        for key in cls.bl_rna.properties.keys()  # noqa: SIM118 (RNA collection)
        if key not in ("rna_type", "bl_idname")
    ]
    deferred = getattr(bpy.props, "_PropertyDeferred", ())
    old_style = [
        key
        for base in cls.__mro__
        for key, value in vars(base).items()
        if deferred and isinstance(value, deferred)
    ]
    message = f"add-on {module!r} declares no RNA property {name!r} in {cls.__name__}; "
    message += f"it declares: {', '.join(declared)}" if declared else "it declares none"
    if old_style:
        message += (
            f" ({', '.join(old_style)} {'is' if len(old_style) == 1 else 'are'} assigned "
            f"the pre-2.80 way, `{old_style[0]} = ...Property(...)`, which Blender 2.80+ "
            f"ignores: it registers annotations, `{old_style[0]}: ...Property(...)`)"
        )
    return message


def preferences(module: str, values: dict[str, Any]) -> dict[str, Any]:
    addon = bpy.context.preferences.addons.get(module)
    if addon is None:
        raise Failure("unknown_path", f"add-on {module!r} is not enabled")
    prefs = addon.preferences
    if prefs is None and values:
        raise Failure(
            "unknown_path",
            f"add-on {module!r} declares no preference {next(iter(values))!r}: it declares no "
            f"preferences at all (no AddonPreferences class with bl_idname = {module!r})",
        )
    if prefs is None:
        return {}
    for name, value in values.items():
        if name not in prefs.bl_rna.properties:
            raise Failure("unknown_path", _undeclared(module, type(prefs), name))
        try:
            setattr(prefs, name, _coerce(prefs.bl_rna.properties[name].type, value))
        except (TypeError, ValueError) as error:
            raise Failure("bad_value", f"preference {name} = {value!r}: {error}") from None
    names = [
        name
        for name in prefs.bl_rna.properties.keys()  # noqa: SIM118 (RNA collection)
        if name not in ("rna_type", "bl_idname")
    ]
    return {name: plain(getattr(prefs, name)) for name in names}


# -- panels --------------------------------------------------------------------------------
class _Recorder:
    """What an operator button's properties are set to by `draw()`."""

    def __init__(self, node: dict[str, Any]) -> None:
        object.__setattr__(self, "_node", node)

    def __setattr__(self, name: str, value: Any) -> None:
        self._node["properties"][name] = plain(value)

    def __getattr__(self, name: str) -> Any:
        return self._node["properties"].get(name)


class Layout:
    """A stand-in for `bpy.types.UILayout` that records what `draw()` puts in it."""

    _CONTAINERS = ("row", "column", "box", "split", "grid_flow", "column_flow")

    def __init__(self, kind: str = "layout", **options: Any) -> None:
        state = {"enabled": True, "active": True, "alert": False}
        node = {"type": kind, **state, "options": plain(options), "children": []}
        object.__setattr__(self, "node", node)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("enabled", "active", "alert"):
            self.node[name] = bool(value)
        else:
            self.node["options"][name] = plain(value)

    def __getattr__(self, name: str) -> Any:
        if name in self._CONTAINERS:
            return lambda **options: self._child(name, options)
        if name.startswith("template_") or name in ("menu", "popover", "prop_menu_enum"):
            return lambda *args, **options: self._add(name, args=plain(list(args)), **options)
        if name in ("enabled", "active", "alert"):
            return self.node[name]
        return self.node["options"].get(name)

    def _child(self, kind: str, options: dict[str, Any]) -> Layout:
        child = Layout(kind, **options)
        self.node["children"].append(child.node)
        return child

    def _add(self, kind: str, **fields: Any) -> dict[str, Any]:
        node = {"type": kind, **{key: plain(value) for key, value in fields.items()}}
        self.node["children"].append(node)
        return node

    def label(self, *, text: str = "", icon: str = "NONE", **options: Any) -> None:
        self._add("label", text=text, icon=icon, **options)

    def separator(self, **options: Any) -> None:
        self._add("separator", **options)

    def prop(self, data: Any, property: str, *, text: str | None = None, **options: Any) -> None:
        rna = data.bl_rna.properties.get(property) if hasattr(data, "bl_rna") else None
        if rna is None:
            raise AttributeError(f"layout.prop(): property {property!r} not found on {data!r}")
        self._add(
            "prop",
            property=property,
            owner=type(data).__name__,
            path=_struct_path(data),
            value=plain(getattr(data, property)),
            text=rna.name if text is None else text,
            **options,
        )

    def prop_search(
        self, data: Any, property: str, search_data: Any, search: str, **kw: Any
    ) -> None:
        self.prop(data, property, **kw)
        self.node["children"][-1]["search"] = search

    def prop_enum(self, data: Any, property: str, value: str, **options: Any) -> None:
        self.prop(data, property, **options)
        self.node["children"][-1]["enum_value"] = value

    def operator(self, idname: str, *, text: str | None = None, **options: Any) -> _Recorder:
        try:
            _operator(idname)
            label = text if text is not None else _operator(idname).get_rna_type().name
            known = True
        except Failure:
            label, known = text, False
        node = self._add("operator", idname=idname, text=label, known=known, **options)
        node["properties"] = {}
        return _Recorder(node)


class _PanelSelf:
    """`self` for a panel's draw(): its class attributes and methods, and a recording layout."""

    def __init__(self, cls: type, layout: Layout) -> None:
        self._cls = cls
        self.layout = layout

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._cls, name)
        return value.__get__(self) if callable(value) and hasattr(value, "__get__") else value


def _panel_class(idname: str) -> type:
    cls = getattr(bpy.types, idname, None)
    if cls is None or not isinstance(cls, type) or not issubclass(cls, bpy.types.Panel):
        raise Failure("unknown_panel", f"unknown panel {idname!r}")
    return cls


def panel(idname: str) -> dict[str, Any]:
    """Poll a panel and, when it shows, record its header and body."""
    cls = _panel_class(idname)
    context = bpy.context
    poll = getattr(cls, "poll", None)
    shown = bool(poll(context)) if poll is not None else True
    tree: dict[str, Any] = {"idname": idname, "label": getattr(cls, "bl_label", ""), "poll": shown}
    if not shown:
        return tree
    for part in ("draw_header", "draw"):
        if hasattr(cls, part):
            layout = Layout()
            try:
                getattr(cls, part)(_PanelSelf(cls, layout), context)
            except Exception as error:
                _log_traceback(f"panel {idname}.{part} raised")
                raise Failure(
                    "panel_failed", f"{idname}.{part}() raised {type(error).__name__}: {error}"
                ) from None
            tree["header" if part == "draw_header" else "layout"] = layout.node
    return tree


# -- the event loop: app timers, event timers, modal operators -----------------------------
# Blender's main loop (WM_main) never runs in background mode: no `bpy.app.timers` function is
# called, no `wm.event_timer_add()` timer ticks and no modal operator gets an event. `Loop` is
# that main loop for the session: one scheduler for both kinds of timers, run between requests
# on the real clock and by `step` on the stepped one. An event timer that falls due sends a
# TIMER event to its window's modal handlers, newest first, as `wm_handlers_do` does.

LOOP_TICK = 0.005  # an idle Blender main loop sleeps 5 ms: a timer runs at most once a tick
_MODAL_RESULTS = {"RUNNING_MODAL", "CANCELLED", "FINISHED", "PASS_THROUGH", "INTERFACE"}
_ENDS = {"FINISHED", "CANCELLED"}
_REPORT_LABELS = {kind: label for label, kind in _REPORT_KINDS.items()}


class Event:
    """Stands in for `bpy.types.Event` (Python cannot create one): what `modal()` and
    `invoke()` receive. Headless there is no input, so events are TIMER (value NOTHING) from
    event timers, and NONE for `invoke()` (a window's event state before any input)."""

    def __init__(self, type: str = "NONE", value: str = "NOTHING") -> None:
        self.type, self.value = type, value
        self.type_prev, self.value_prev = "NONE", "NOTHING"
        self.ascii = self.unicode = ""
        self.direction = "ANY"
        self.is_repeat = self.is_consecutive = self.is_tablet = self.is_mouse_absolute = False
        self.shift = self.ctrl = self.alt = self.oskey = self.hyper = False
        self.mouse_x = self.mouse_y = self.mouse_region_x = self.mouse_region_y = 0
        self.mouse_prev_x = self.mouse_prev_y = self.mouse_prev_press_x = 0
        self.mouse_prev_press_y = 0
        self.pressure, self.tilt = 1.0, (0.0, 0.0)
        self.ndof_motion: Any = None
        self.xr: Any = None

    def __repr__(self) -> str:
        return f"<Event {self.type} {self.value} (harness)>"


class EventTimer:
    """A `wm.event_timer_add()` timer: the real `bpy.types.Timer` it returned, and when it
    fires (Blender's wm_window_timers_process: the next multiple of time_step after start)."""

    def __init__(self, timer: Any, window: Any, step: float, now: float) -> None:
        self.timer = timer
        self.pointer = timer.as_pointer()
        self.window = window
        self.window_key = window.as_pointer() if window is not None else None
        self.step = step
        self.start = self.last = now
        self.delta = self.duration = 0.0
        self.removed = False

    @property
    def name(self) -> str:
        where = "" if self.window is not None else " (no window: sends no events)"
        return f"event timer every {self.step:g} s{where}"

    def next_due(self) -> float:
        if self.step <= 0:
            return self.last + LOOP_TICK
        return self.start + self.step * (math.floor(self.duration / self.step + 1e-9) + 1)


def _py_idname(idname: str) -> str:
    """`PROBE_OT_talk` -> `probe.talk` (Blender accepts both spellings in bl_idname)."""
    module, sep, name = idname.partition("_OT_")
    return f"{module.lower()}.{name}" if sep else idname


class ModalHandler:
    """An operator that called `wm.modal_handler_add(self)`: it gets its window's events."""

    def __init__(self, op: Any, window: Any) -> None:
        self.op = op
        self.idname = _py_idname(str(getattr(type(op), "bl_idname", type(op).__name__)))
        self.window_key = window.as_pointer() if window is not None else None
        self.reports: list[dict[str, str]] = []
        self.events = 0
        self.result: list[str] | None = None  # set when modal() ends it
        self.error: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "idname": self.idname,
            "running": self.result is None,
            "result": self.result or ["RUNNING_MODAL"],
            "reports": list(self.reports),
            "error": self.error,
            "events": self.events,
        }


def _interval(function: Any, returned: Any) -> float | None:
    """What a timer's return value means, as bpy_app_timers.cc reads it: None unregisters, a
    number (PyFloat_AsDouble: float, __float__, __index__) reschedules, anything else is
    printed and unregisters."""
    if returned is None:
        return None
    kind = type(returned)
    try:
        if isinstance(returned, float):
            seconds = float(returned)
        elif hasattr(kind, "__float__"):
            seconds = kind.__float__(returned)
            if not isinstance(seconds, float):
                raise TypeError
        elif hasattr(kind, "__index__"):
            seconds = float(kind.__index__(returned))
        else:
            raise TypeError
    except Exception:
        sys.stderr.write(
            f"Error: 'bpy.app.timers' callback {function} did not return None or float.\n"
        )
        return None
    return max(0.0, seconds)


class Loop:
    """Blender's main loop for a background session: `bpy.app.timers`, window-manager event
    timers and modal handlers, on one clock ("real", or "stepped" by `step`)."""

    def __init__(self) -> None:
        self.due: dict[Any, float] = {}  # app-timer functions and EventTimers -> when due
        self.order: dict[Any, int] = {}  # registration order breaks ties
        self.counter = itertools.count()
        self.event_timers: dict[int, EventTimer] = {}  # by the Timer's pointer
        self.handlers: list[ModalHandler] = []  # newest first, as a window's modal handlers
        self.ended: dict[str, ModalHandler] = {}  # the last one of each idname that ended
        self.current: ModalHandler | None = None  # whose modal() runs now (its reports)
        self.clock = "real"
        self.now = time.monotonic()  # the stepped clock
        self.lock = threading.RLock()

    def time(self) -> float:
        return time.monotonic() if self.clock == "real" else self.now

    def _schedule(self, key: Any, when: float) -> None:
        with self.lock:
            self.due[key] = when
            self.order.setdefault(key, next(self.counter))

    def _drop(self, key: Any) -> None:
        with self.lock:
            self.due.pop(key, None)
            self.order.pop(key, None)

    # bpy.app.timers
    def register(self, function: Any, first_interval: float = 0, persistent: bool = False) -> None:
        if not callable(function):
            raise TypeError("function is not callable")
        self._schedule(function, self.time() + max(0.0, float(first_interval)))

    def unregister(self, function: Any) -> None:
        with self.lock:
            if function not in self.due or isinstance(function, EventTimer):
                raise ValueError("Error: function is not registered")
            self._drop(function)

    def is_registered(self, function: Any) -> bool:
        return function in self.due and not isinstance(function, EventTimer)

    # bpy.types.WindowManager (installed over the real methods, which are passed in)
    def event_timer_add(self, native: Any, time_step: float, window: Any = None) -> Any:
        timer = native(time_step, window=window)  # Blender checks the arguments, gives a Timer
        entry = EventTimer(timer, window, float(time_step), self.time())
        self.event_timers[entry.pointer] = entry
        self._schedule(entry, entry.next_due())
        if window is None:
            sys.stderr.write(
                f"[harness] event_timer_add({time_step:g}) without a window: as in Blender, it "
                "sends no TIMER events (pass window=context.window)\n"
            )
        return timer

    def event_timer_remove(self, native: Any, timer: Any) -> None:
        if isinstance(timer, bpy.types.Timer):
            entry = self.event_timers.get(timer.as_pointer())
            if entry is None or entry.removed:
                return None  # removed already
            entry.removed = True  # still readable afterwards, as Blender frees it later
            self._drop(entry)
        return native(timer)  # Blender's own argument errors for anything else

    def modal_handler_add(self, native: Any, operator: Any) -> bool:
        if not isinstance(operator, bpy.types.Operator):
            return bool(native(operator))
        window = bpy.context.window
        if window is None:
            windows = bpy.context.window_manager.windows
            window = windows[0] if len(windows) else None
        self.handlers.insert(0, ModalHandler(operator, window))
        return True

    def forget(self, idname: str, before: set[int], why: str) -> None:
        """Handlers an operator call added although it did not return RUNNING_MODAL: Blender
        frees that operator, so they can never run."""
        for handler in [h for h in self.handlers if id(h) not in before]:
            if handler.idname == idname:
                self.handlers.remove(handler)
                sys.stderr.write(f"[harness] {idname}: modal handler dropped ({why})\n")

    def started(self, before: set[int], reports: list[dict[str, str]]) -> None:
        """The reports of the call that started a modal operator open its report list."""
        for handler in self.handlers:
            if id(handler) not in before:
                handler.reports[:0] = reports

    # running
    def next_due(self) -> float | None:
        with self.lock:
            return min(self.due.values(), default=None)

    def run_due(self) -> int:
        """Run each timer due now once, in due order (app timers and event timers alike)."""
        now, runs = self.time(), 0
        with self.lock:
            ready = sorted(
                (due, self.order[key], key) for key, due in self.due.items() if due <= now
            )
        for _, _, key in ready:
            if self.due.get(key, math.inf) > now:
                continue  # removed, or rescheduled, by one that ran before it
            runs += 1
            if isinstance(key, EventTimer):
                self._tick(key)
            else:
                self._run_app_timer(key)
        return runs

    def _run_app_timer(self, function: Any) -> None:
        try:
            returned = function()
        except BaseException:  # a timer's SystemExit must not end the session
            _log_traceback(f"timer {getattr(function, '__qualname__', function)} raised")
            returned = None
        interval = _interval(function, returned)
        with self.lock:
            if function in self.due:  # it may have unregistered itself
                if interval is None:
                    self._drop(function)
                else:
                    self.due[function] = self.time() + max(interval, LOOP_TICK)

    def _tick(self, entry: EventTimer) -> None:
        now = self.time()
        entry.delta, entry.last = now - entry.last, now
        entry.duration += entry.delta
        with self.lock:
            if entry in self.due:
                self.due[entry] = max(entry.next_due(), now + LOOP_TICK)
        if entry.window_key is None:
            return
        event = Event("TIMER", "NOTHING")
        for handler in [h for h in self.handlers if h.window_key == entry.window_key]:
            if handler.result is None and "PASS_THROUGH" not in self._modal(handler, event):
                break  # handled: the event goes no further

    def _modal(self, handler: ModalHandler, event: Event) -> set[str]:
        self.current = handler
        try:
            modal = getattr(type(handler.op), "modal", None)
            if modal is None:
                raise TypeError(f"{handler.idname} added a modal handler but has no modal()")
            returned = modal(handler.op, bpy.context, event)
            if not isinstance(returned, set | frozenset) or not returned <= _MODAL_RESULTS:
                raise TypeError(
                    f"{handler.idname}.modal() returned {returned!r}, expected a set of "
                    f"{sorted(_MODAL_RESULTS)}"
                )
            outcome = set(returned)
        except BaseException as error:  # Blender cancels the operator
            _log_traceback(f"operator {handler.idname}.modal() raised")
            handler.error = f"{type(error).__name__}: {error}".splitlines()[0]
            outcome = {"CANCELLED"}
        finally:
            self.current = None
        handler.events += 1
        if outcome & _ENDS:
            handler.result = sorted(outcome & _ENDS)
            handler.op = None  # Blender frees the operator
            self.handlers.remove(handler)
            self.ended[handler.idname] = handler
            sys.stderr.write(
                f"[harness] modal operator {handler.idname} ended {handler.result} after "
                f"{handler.events} event(s)\n"
            )
        return outcome

    def report(self, op: Any, kinds: Any, message: str) -> None:
        """`self.report()` inside modal(): Blender shows it in the UI; it is kept here."""
        handler = self.current
        if handler is not None and op is handler.op:
            kind = sorted(kinds)[0] if kinds else "INFO"
            handler.reports.append({"type": kind, "message": str(message)})
            sys.stderr.write(f"{_REPORT_LABELS.get(kind, kind.title())}: {message}\n")

    def step(self, seconds: float) -> int:
        """Advance the stepped clock by `seconds`, running everything that falls due on the
        way, in due order."""
        end, runs = self.now + seconds, 0
        while True:
            upcoming = self.next_due()
            if upcoming is None or upcoming > end:
                break
            self.now = max(self.now, upcoming)
            runs += self.run_due()
        self.now = end
        return runs

    def shift(self, seconds: float) -> None:
        """Another clock: keep what is due as far ahead as it was."""
        with self.lock:
            for key in self.due:
                self.due[key] += seconds
            for entry in self.event_timers.values():
                entry.start += seconds
                entry.last += seconds

    def find(self, idname: str) -> ModalHandler | None:
        idname = _py_idname(idname)
        running = [h for h in self.handlers if h.idname == idname]
        return running[0] if running else self.ended.get(idname)

    def wait_modal(self, idname: str, seconds: float) -> dict[str, Any]:
        """Run the loop until that modal operator ends, for at most `seconds` (of the clock
        in use: stepped time is advanced, real time is waited)."""
        handler = self.find(idname)
        if handler is None:
            running = ", ".join(sorted({h.idname for h in self.handlers})) or "none"
            raise Failure(
                "unknown_modal",
                f"no modal operator {idname!r} has run in this session (running: {running})",
            )
        if self.clock == "stepped":
            end = self.now + seconds
            while handler.result is None:
                upcoming = self.next_due()
                if upcoming is None or upcoming > end:
                    self.now = end
                    break
                self.now = max(self.now, upcoming)
                self.run_due()
        else:
            deadline = time.monotonic() + seconds
            while handler.result is None and time.monotonic() < deadline:
                upcoming = self.next_due()
                until = deadline if upcoming is None else min(upcoming, deadline)
                time.sleep(max(0.0, until - time.monotonic()))  # the idle main loop
                self.run_due()
        return handler.summary()

    def modals(self) -> list[dict[str, Any]]:
        return [h.summary() for h in self.handlers]

    def listing(self) -> list[dict[str, Any]]:
        now = self.time()
        with self.lock:
            due = sorted(self.due.items(), key=lambda item: item[1])
        return [
            {
                "name": key.name if isinstance(key, EventTimer)
                else getattr(key, "__qualname__", repr(key)),
                "kind": "event" if isinstance(key, EventTimer) else "app",
                "due_in": round(when - now, 6),
            }
            for key, when in due
        ]  # fmt: skip


LOOP = Loop()
_INVOKING: list[list[Any]] = []  # [idname, consumed] of bpy.ops calls with an INVOKE context
_ORIGINAL_EXECUTE: dict[type, Any] = {}


def _execute_or_invoke(self: Any, context: Any) -> Any:
    """The `execute` of add-on operators that define `invoke`. In background mode Blender has
    no event to invoke with and calls `execute` even for 'INVOKE_DEFAULT' (or nothing: "Invalid
    operator call"); an INVOKE call gets `invoke(context, event)` here, as with a window."""
    cls = type(self)
    if _INVOKING and not _INVOKING[-1][1] and _INVOKING[-1][0] == _py_idname(cls.bl_idname):
        _INVOKING[-1][1] = True
        return cls.invoke(self, context, Event())
    original = _ORIGINAL_EXECUTE.get(cls)
    if original is None:
        module, _, name = _py_idname(cls.bl_idname).partition(".")
        sys.stderr.write(f"ERROR Invalid operator call '{module.upper()}_OT_{name}'\n")
        return {"PASS_THROUGH"}
    return original(self, context)


def _install_loop() -> None:
    """Put the loop where add-ons reach Blender's: bpy.app.timers, the window manager's timer
    and modal-handler methods, Timer.time_delta/time_duration, Operator.report, and invoke."""
    timers = bpy.app.timers
    for name in ("register", "unregister", "is_registered"):
        # Where bpy.app.timers is read-only, the stand-in below replaces it whole.
        with contextlib.suppress(AttributeError, TypeError):
            setattr(timers, name, getattr(LOOP, name))
    if bpy.app.timers.register != LOOP.register:
        import types

        stand_in = types.SimpleNamespace(
            register=LOOP.register,
            unregister=LOOP.unregister,
            is_registered=LOOP.is_registered,
        )
        sys.modules["bpy.app.timers"] = stand_in  # type: ignore[assignment]
        bpy.app.timers = stand_in  # type: ignore[misc]

    # RNA functions win over class attributes in bpy_struct's getattro, so the methods are
    # taken over in __getattribute__ of Blender's own Python classes (inherited by subclasses).
    def take_over(cls: Any, methods: dict[str, Any]) -> None:
        native = cls.__getattribute__

        def __getattribute__(self: Any, name: str) -> Any:
            value = native(self, name)
            if name in methods:
                return functools.partial(methods[name], self, value)
            return value

        cls.__getattribute__ = __getattribute__

    take_over(
        bpy.types.WindowManager,
        {
            "event_timer_add": lambda wm, native, *a, **k: LOOP.event_timer_add(native, *a, **k),
            "event_timer_remove": lambda wm, native, t: LOOP.event_timer_remove(native, t),
            "modal_handler_add": lambda wm, native, op: LOOP.modal_handler_add(native, op),
        },
    )

    def report(op: Any, native: Any, kinds: Any, message: str) -> Any:
        LOOP.report(op, kinds, message)
        return native(kinds, message)

    take_over(bpy.types.Operator, {"report": report})
    timer_type = bpy.types.Timer
    native_timer = timer_type.__getattribute__

    def timer_getattribute(self: Any, name: str) -> Any:
        if name in ("time_delta", "time_duration"):
            entry = LOOP.event_timers.get(native_timer(self, "as_pointer")())
            if entry is not None:
                return entry.delta if name == "time_delta" else entry.duration
        return native_timer(self, name)

    timer_type.__getattribute__ = timer_getattribute  # type: ignore[method-assign]

    native_register = bpy.utils.register_class

    def register_class(cls: Any) -> Any:
        if (
            isinstance(cls, type)
            and issubclass(cls, bpy.types.Operator)
            and callable(getattr(cls, "invoke", None))
        ):
            original = next(
                (
                    vars(base)["execute"]
                    for base in cls.__mro__
                    if "execute" in vars(base) and vars(base)["execute"] is not _execute_or_invoke
                ),
                None,
            )
            _ORIGINAL_EXECUTE[cls] = original
            cls.execute = _execute_or_invoke  # type: ignore[attr-defined]
        return native_register(cls)

    bpy.utils.register_class = register_class
    from bpy.ops import _BPyOpsSubModOp  # type: ignore[import-not-found]

    native_call = _BPyOpsSubModOp.__call__

    def call(self: Any, *args: Any, **kw: Any) -> Any:
        idname = self.idname_py()
        invoking = bool(args) and isinstance(args[0], str) and args[0].startswith("INVOKE")
        before = {id(h) for h in LOOP.handlers}
        if invoking:
            _INVOKING.append([idname, False])
        result = None
        try:
            result = native_call(self, *args, **kw)
            return result
        finally:
            if invoking:
                _INVOKING.pop()
            if result is None or "RUNNING_MODAL" not in result:
                LOOP.forget(idname, before, f"the call returned {sorted(result or ['error'])}")

    _BPyOpsSubModOp.__call__ = call


def clock(mode: str) -> str:
    if mode not in ("real", "stepped"):
        raise Failure("bad_value", f"clock must be 'real' or 'stepped', not {mode!r}")
    before = LOOP.time()
    LOOP.now, LOOP.clock = time.monotonic(), mode
    LOOP.shift(LOOP.time() - before)
    return mode


# -- the loop ------------------------------------------------------------------------------
def _handle(request: dict[str, Any]) -> Any:
    op = request.pop("op")
    handlers = {
        "ping": lambda: {"version": bpy.app.version_string, "python": sys.version.split()[0]},
        "enable": lambda: enable(request["path"]),
        "preferences": lambda: preferences(request["module"], request.get("values", {})),
        "operator": lambda: operator(
            request["idname"], request.get("properties", {}), request.get("invoke", False)
        ),
        "get": lambda: get(request["path"]),
        "set": lambda: set_(request["path"], request["value"]),
        "panel": lambda: panel(request["idname"]),
        "panels": lambda: sorted(
            name
            for name in dir(bpy.types)
            if isinstance(getattr(bpy.types, name, None), type)
            and issubclass(getattr(bpy.types, name), bpy.types.Panel)
            and getattr(getattr(bpy.types, name), "__module__", "").startswith(tuple(ENABLED))
        ),
        "clock": lambda: clock(request["mode"]),
        "step": lambda: LOOP.step(float(request.get("seconds", 0))),
        "run_timers": lambda: LOOP.run_due(),
        "timers": lambda: LOOP.listing(),
        "modals": lambda: LOOP.modals(),
        "wait_modal": lambda: LOOP.wait_modal(request["idname"], float(request["seconds"])),
        "tracebacks": lambda: list(TRACEBACKS),
        "exec": lambda: _exec(request["code"]),
    }
    if op not in handlers:
        raise Failure("bad_request", f"unknown request {op!r}")
    return handlers[op]()


def _exec(code: str) -> Any:
    """Run code for `harness blender shell`; the value of a trailing expression comes back."""
    scope = sys.modules["__main__"].__dict__
    scope.setdefault("bpy", bpy)
    tree = ast.parse(code, mode="exec")
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<shell>", "exec"), scope)
    if isinstance(last, ast.Expr):
        return plain(eval(compile(ast.Expression(last.value), "<shell>", "eval"), scope))
    return None


def _answer(message: dict[str, Any]) -> None:
    _PROTOCOL.write(json.dumps(message) + "\n")
    _PROTOCOL.flush()


def main() -> None:
    logging.basicConfig(
        level=logging.DEBUG,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    threading.excepthook = lambda args: TRACEBACKS.append(
        "thread "
        + str(args.thread.name if args.thread else "?")
        + "\n"
        + "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
    )
    if len(sys.argv) > 1:
        clock(sys.argv[1])
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # where it hangs, on request
    _install_loop()
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin, selectors.EVENT_READ)
    buffered = b""
    _answer({"ready": True, "version": bpy.app.version_string})
    while True:
        timeout = None
        if LOOP.clock == "real":
            upcoming = LOOP.next_due()
            timeout = None if upcoming is None else max(0.0, upcoming - time.monotonic())
        if selector.select(timeout):
            chunk = os.read(sys.stdin.fileno(), 65536)
            if not chunk:
                return
            buffered += chunk
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                _serve(line)
        if LOOP.clock == "real":
            LOOP.run_due()


def _serve(line: bytes) -> None:
    request = json.loads(line)
    ident = request.pop("id", None)
    try:
        _answer({"id": ident, "ok": True, "value": _handle(request)})
    except Failure as failure:
        _answer({"id": ident, "ok": False, "kind": failure.kind, "error": str(failure)})
    except Exception as error:
        _log_traceback(f"request {request!r} raised")
        message = f"{type(error).__name__}: {error}".splitlines()[0]
        _answer({"id": ident, "ok": False, "kind": "internal", "error": message})


if __name__ == "__main__":
    main()
    sys.stderr.flush()
    os._exit(0)  # bpy has been seen to crash at interpreter exit: leave before it can
