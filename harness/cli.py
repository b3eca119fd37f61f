"""How people drive the stack: the `harness` command line (typer + rich)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from harness import _engine, _labels, _state, images, reaper, topology
from harness.errors import HarnessError
from harness.stack import Stack

app = typer.Typer(
    help="Drive the mediastack-harness stack: images, up/down, status, logs.",
    no_args_is_help=True,
    add_completion=False,
)
images_app = typer.Typer(help="Build or list the stack's images.", no_args_is_help=True)
engine_app = typer.Typer(
    help="Check or install the Docker engine and Compose v2.", no_args_is_help=True
)
app.add_typer(images_app, name="images")
app.add_typer(engine_app, name="engine")

console = Console()
errors = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(command: F) -> F:
    """Turn a HarnessError into one red line on stderr and exit status 1."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except HarnessError as error:
            errors.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return run  # type: ignore[return-value]


def _services(value: str | None) -> list[str]:
    names = [name.strip() for name in (value or "").split(",") if name.strip()]
    topology.load().select(names)
    return names


@app.command()
@one_line_errors
def up(
    services: Annotated[
        str | None, typer.Option(help="Comma-separated services (default: all).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for health.")] = 180.0,
) -> None:
    """Start the stack (or some services) until healthy; tests attach with --attach-stack."""
    names = _services(services)
    stack = Stack(_state.UP_PROJECT, owner=_labels.KEPT)
    with console.status("starting…") as status:

        def progress(service: str, state: str) -> None:
            status.update(f"{service}: {state}")

        started = stack.up(names, timeout=timeout, progress=progress)
    _state.write_up_record(stack.project, started)
    _print_status(stack)


@app.command()
@one_line_errors
def down(
    all_runs: Annotated[
        bool, typer.Option("--all", help="Also reap every stack whose owner process is gone.")
    ] = False,
) -> None:
    """Remove the `harness up` stack; with --all, also every dead run's leftovers."""
    Stack(_state.UP_PROJECT).down()
    _state.clear_up_record()
    console.print(f"removed {_state.UP_PROJECT}")
    if all_runs:
        reaped = reaper.reap_dead_runs(include_kept=True)
        console.print(f"reaped {len(reaped)} run(s): {', '.join(reaped) or '-'}")


def _print_status(stack: Stack) -> None:
    table = Table(title=f"stack {stack.project}")
    for column in ("service", "health", "address"):
        table.add_column(column)
    for service, health in stack.health().items():
        address = (
            str(stack.address(service)) if health not in ("missing", "exited", "dead") else "-"
        )
        table.add_row(service, health, address)
    console.print(table)


@app.command()
@one_line_errors
def status() -> None:
    """Health and client-facing address of each service of the `harness up` stack."""
    _print_status(Stack(_state.read_up_record()["project"]))


@app.command()
@one_line_errors
def logs(
    service: str,
    tail: Annotated[int, typer.Option(help="How many lines.")] = 50,
) -> None:
    """Print a service's last log lines."""
    topology.load().get(service)
    console.out(Stack(_state.read_up_record()["project"]).logs(service, tail))


@images_app.command("build")
@one_line_errors
def images_build(
    offline: Annotated[bool, typer.Option(help="Build everything locally, never pull.")] = False,
    force: Annotated[bool, typer.Option(help="Rebuild even when unchanged.")] = False,
) -> None:
    """Pull the pinned upstream images, or build local stand-ins when no registry answers."""
    with console.status("images…") as progress:

        def report(line: str) -> None:
            progress.update(line)
            if not line.split(": ", 1)[-1].startswith("Step "):
                console.print(line, highlight=False)

        images.ImageBuilder(offline=True if offline else None, report=report).ensure(force=force)


@images_app.command("list")
@one_line_errors
def images_list() -> None:
    """Each image the stack uses, whether present, and where it came from."""
    table = Table()
    for column in ("image", "tag", "origin", "state"):
        table.add_column(column)
    for row in images.listing():
        table.add_row(*row.values())
    console.print(table)


@engine_app.command("ensure")
@one_line_errors
def engine_ensure(
    install: Annotated[
        bool, typer.Option(help="Install and start what is missing (root, Debian/Ubuntu).")
    ] = False,
) -> None:
    """Check that Docker and Compose v2 answer; install them with --install."""
    _engine.ensure(install=install, report=lambda line: console.print(line, highlight=False))


def main() -> None:  # pragma: no cover - console script shim
    """Entry point for `python -m harness.cli`."""
    app(prog_name="harness")


if __name__ == "__main__":  # pragma: no cover
    main()
