"""`harness blender`: run an add-on's tests, show its panels, or open a session on it."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from harness._errors import HarnessError
from harness.blender._panel import PanelTree
from harness.blender._session import Session, check_addon, runtime

app = typer.Typer(
    help="Test a Blender add-on headless in real Blender (bpy).", no_args_is_help=True
)
console = Console()
errors = Console(stderr=True)


def _fail(error: HarnessError, log: Path | None = None) -> typer.Exit:
    message = str(error)
    if log is not None:  # the file holding the traceback "(see the log)" points at
        message = message.replace("(see the log)", f"(see the log: {log})")
    errors.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _keep_log(session: Session) -> Path:
    """The closed session's whole log, written to a file that outlives it."""
    handle, name = tempfile.mkstemp(prefix="harness-blender-", suffix=".log")
    with os.fdopen(handle, "w") as file:
        file.write(session.log + "\n")
    return Path(name)


def _plugin_args() -> list[str]:
    """`-p harness.blender.plugin` unless the installed entry point already loads it."""
    points = importlib.metadata.entry_points(group="pytest11")
    if any(point.value == "harness.blender.plugin" for point in points):
        return []
    return ["-p", "harness.blender.plugin"]


def _tests_of(addon: Path) -> list[str]:
    for candidate in (addon / "tests", addon.parent / "tests"):
        if candidate.is_dir():
            return [str(candidate)]
    return []


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(
    ctx: typer.Context,
    addon: Annotated[Path, typer.Argument(help="The add-on folder or zip.")],
) -> None:
    """Run the add-on's tests (ADDON/tests, or a tests/ beside it) with the harness fixtures.

    Arguments after `--` go to pytest, e.g. `harness blender run addon -- -k refresh`.
    """
    try:
        check_addon(addon)
        note = runtime().note
    except HarnessError as error:
        raise _fail(error) from None
    if note:
        errors.print(note, highlight=False)
    pytest_args = list(ctx.args)
    if not any(Path(arg.split("::")[0]).exists() for arg in pytest_args):
        pytest_args = _tests_of(addon) + pytest_args
    command = [sys.executable, "-m", "pytest", *_plugin_args()]
    command += ["--blender-addon", str(addon.resolve()), *pytest_args]
    raise typer.Exit(subprocess.call(command))


def _render(tree: PanelTree) -> str:
    lines = [f"{tree.data['idname']} — {tree.data['label']!r} (poll: {tree.poll})"]

    def visit(node: dict[str, Any], depth: int) -> None:
        pad = "  " * depth
        flags = "".join(
            f" [{name}]"
            for name, bad in (("disabled", not node.get("enabled", True)),
                              ("inactive", not node.get("active", True)),
                              ("alert", node.get("alert", False)))
            if bad
        )  # fmt: skip
        kind = node["type"]
        if kind == "label":
            lines.append(f"{pad}label {node['text']!r} icon={node['icon']}{flags}")
        elif kind == "prop":
            lines.append(f"{pad}prop {node['text']!r} = {node['value']!r}{flags}")
        elif kind == "operator":
            lines.append(f"{pad}operator {node['idname']} {node['text']!r} {node['properties']}")
        else:
            lines.append(f"{pad}{kind}{flags}")
        for child in node.get("children", []):
            visit(child, depth + 1)

    if tree.poll:
        visit(tree.root, 1)
    return "\n".join(lines)


@app.command()
def show(
    addon: Annotated[Path, typer.Argument(help="The add-on folder or zip.")],
    panel: Annotated[str | None, typer.Option(help="One panel's idname (default: all).")] = None,
) -> None:
    """Enable the add-on in a fresh session and print what its panels show."""
    try:
        check_addon(addon)
        session = Session(clock="stepped")
    except HarnessError as error:
        raise _fail(error) from None
    try:
        with session:
            console.print(f"enabled {session.enable(addon)} in Blender {session.version}")
            for idname in [panel] if panel else session.panels():
                console.print(_render(session.panel(idname)), highlight=False, markup=False)
    except HarnessError as error:
        log = _keep_log(session) if "(see the log)" in str(error) else None
        raise _fail(error, log) from None


@app.command()
def shell(
    addon: Annotated[Path | None, typer.Argument(help="An add-on to enable first.")] = None,
) -> None:
    """An interactive Python prompt inside a Blender session (timers on the real clock)."""
    try:
        if addon is not None:
            check_addon(addon)
        with Session(clock="real") as session:
            if addon is not None:
                console.print(f"enabled {session.enable(addon)}")
            console.print(f"Blender {session.version}; `bpy` is imported. Ctrl-D leaves.")
            while True:
                try:
                    line = input(">>> ")
                except EOFError:
                    break
                printed = len(session.log_lines)
                try:
                    value = session.execute(line) if line.strip() else None
                except HarnessError as error:
                    console.print(f"error: {error}", highlight=False)
                    continue
                finally:
                    for output in session.log_lines[printed:]:
                        console.print(output, highlight=False, markup=False)
                if value is not None:
                    console.print(repr(value), highlight=False)
    except HarnessError as error:
        raise _fail(error) from None
