"""The Blender side of a session: run by a Python that has `bpy`, never imported by pytest.

It reads one JSON request per line on stdin and answers one JSON line on the original stdout;
everything else the process prints (Blender's own output, the add-on's prints and logging) goes
to stderr, which the parent keeps as the session log. Between requests it runs the add-on's
`bpy.app.timers` when the clock is "real"; with the clock "stepped" they run only on `step`.

Standalone on purpose (stdlib + bpy only): it also runs inside the `mediastack-harness/blender`
image, where nothing of the harness is installed.
"""

from __future__ import annotations

import ast
import contextlib
import ctypes
import io
import json
import logging
import os
import selectors
import shutil
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


def preferences(module: str, values: dict[str, Any]) -> dict[str, Any]:
    addon = bpy.context.preferences.addons.get(module)
    if addon is None:
        raise Failure("unknown_path", f"add-on {module!r} is not enabled")
    prefs = addon.preferences
    if prefs is None:
        raise Failure("unknown_path", f"add-on {module!r} has no preferences")
    for name, value in values.items():
        if name not in prefs.bl_rna.properties:
            raise Failure("unknown_path", f"add-on {module!r} has no preference {name!r}")
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


# -- timers --------------------------------------------------------------------------------
class Timers:
    """Stands in for `bpy.app.timers`: Blender never fires them in background mode."""

    def __init__(self) -> None:
        self.due: dict[Any, float] = {}
        self.clock = "real"
        self.now = time.monotonic()  # the stepped clock
        self.lock = threading.Lock()

    def time(self) -> float:
        return time.monotonic() if self.clock == "real" else self.now

    def register(self, function: Any, first_interval: float = 0, persistent: bool = False) -> None:
        with self.lock:
            self.due[function] = self.time() + max(0.0, float(first_interval))

    def unregister(self, function: Any) -> None:
        with self.lock:
            if function not in self.due:
                raise ValueError("Error: function is not registered")
            del self.due[function]

    def is_registered(self, function: Any) -> bool:
        return function in self.due

    def next_due(self) -> float | None:
        with self.lock:
            return min(self.due.values(), default=None)

    def run_due(self) -> int:
        """Run each timer due now once, in due order; their return value reschedules them."""
        now, runs = self.time(), 0
        with self.lock:
            ready = sorted((due, id(fn), fn) for fn, due in self.due.items() if due <= now)
        for _, _, function in ready:
            if function not in self.due:
                continue
            runs += 1
            try:
                again = function()
            except Exception:
                _log_traceback(f"timer {getattr(function, '__qualname__', function)} raised")
                again = None
            with self.lock:
                if again is None:
                    self.due.pop(function, None)
                elif function in self.due:
                    self.due[function] = self.time() + max(0.0, float(again))
        return runs

    def step(self, seconds: float) -> int:
        """Advance the stepped clock by `seconds`, running every timer that falls due on the way."""
        end, runs = self.now + seconds, 0
        while True:
            upcoming = self.next_due()
            if upcoming is None or upcoming > end:
                break
            self.now = max(self.now, upcoming)
            runs += self.run_due()
        self.now = end
        return runs

    def listing(self) -> list[dict[str, Any]]:
        now = self.time()
        with self.lock:
            return [
                {"name": getattr(fn, "__qualname__", repr(fn)), "due_in": round(due - now, 6)}
                for fn, due in sorted(self.due.items(), key=lambda item: item[1])
            ]


TIMERS = Timers()


def _install_timers() -> None:
    timers = bpy.app.timers
    for name in ("register", "unregister", "is_registered"):
        # Where bpy.app.timers is read-only, the stand-in below replaces it whole.
        with contextlib.suppress(AttributeError, TypeError):
            setattr(timers, name, getattr(TIMERS, name))
    if bpy.app.timers.register != TIMERS.register:
        import types

        stand_in = types.SimpleNamespace(
            register=TIMERS.register,
            unregister=TIMERS.unregister,
            is_registered=TIMERS.is_registered,
        )
        sys.modules["bpy.app.timers"] = stand_in  # type: ignore[assignment]
        bpy.app.timers = stand_in  # type: ignore[misc]


def clock(mode: str) -> str:
    if mode not in ("real", "stepped"):
        raise Failure("bad_value", f"clock must be 'real' or 'stepped', not {mode!r}")
    TIMERS.now, TIMERS.clock = time.monotonic(), mode
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
        "step": lambda: TIMERS.step(float(request.get("seconds", 0))),
        "run_timers": lambda: TIMERS.run_due(),
        "timers": lambda: TIMERS.listing(),
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
    _install_timers()
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin, selectors.EVENT_READ)
    buffered = b""
    _answer({"ready": True, "version": bpy.app.version_string})
    while True:
        timeout = None
        if TIMERS.clock == "real":
            upcoming = TIMERS.next_due()
            timeout = None if upcoming is None else max(0.0, upcoming - time.monotonic())
        if selector.select(timeout):
            chunk = os.read(sys.stdin.fileno(), 65536)
            if not chunk:
                return
            buffered += chunk
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                _serve(line)
        if TIMERS.clock == "real":
            TIMERS.run_due()


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
