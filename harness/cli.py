"""How people drive the stack: the `harness` command line (typer + rich)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from harness import _engine, _labels, _state, images, reaper, topology
from harness.errors import HarnessError
from harness.faults import FaultError, Faults, Target, container, http, kernel, tcp
from harness.faults.scenario import Scenario
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
fault_app = typer.Typer(
    help="Inject, list and clear faults on the `harness up` stack.", no_args_is_help=True
)
scenario_app = typer.Typer(help="Play a YAML fault scenario.", no_args_is_help=True)
app.add_typer(images_app, name="images")
app.add_typer(engine_app, name="engine")
app.add_typer(fault_app, name="fault")
app.add_typer(scenario_app, name="scenario")

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


# -- faults ------------------------------------------------------------------------------------
def _up_stack() -> Stack:
    return Stack(_state.read_up_record()["project"])


def _faults() -> Faults:
    return Faults(_up_stack())


TCP_TYPES = (
    "latency",
    "bandwidth",
    "timeout",
    "reset_peer",
    "slow_close",
    "slicer",
    "limit_data",
    "down",
)


@fault_app.command("add")
@one_line_errors
def fault_add(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(TCP_TYPES)}.")],
    service: str,
    ms: Annotated[
        float, typer.Option(help="latency: delay; timeout/reset_peer: after; slow_close: delay.")
    ] = 0,
    jitter: Annotated[float, typer.Option(help="latency: ± jitter (ms).")] = 0,
    rate: Annotated[float, typer.Option(help="bandwidth: KB/s (0 stalls).")] = 0,
    size: Annotated[int, typer.Option(help="slicer: average size; limit_data: bytes.")] = 1,
    variation: Annotated[int, typer.Option(help="slicer: size variation (bytes).")] = 0,
    delay_us: Annotated[int, typer.Option(help="slicer: delay between writes (µs).")] = 0,
    direction: Annotated[str, typer.Option(help="downstream, upstream or both.")] = "downstream",
    toxicity: Annotated[float, typer.Option(help="Share of connections affected (0..1).")] = 1.0,
) -> None:
    """Add a TCP fault through the service's proxy (stays until `harness fault clear`)."""
    faults = _faults()
    how: dict[str, Any] = {"direction": direction, "toxicity": toxicity}
    if kind == "down":
        fault: Any = faults.down(service)
    elif kind == "latency":
        fault = faults.latency(service, ms, jitter, **how)
    elif kind == "bandwidth":
        fault = faults.bandwidth(service, rate, **how)
    elif kind in ("timeout", "reset_peer"):
        fault = getattr(faults, kind)(service, ms, **how)
    elif kind == "slow_close":
        fault = faults.slow_close(service, ms, **how)
    elif kind == "slicer":
        fault = faults.slicer(service, size, variation, delay_us, **how)
    elif kind == "limit_data":
        fault = faults.limit_data(service, size, **how)
    else:
        raise FaultError(f"unknown TCP fault {kind!r}; known: {', '.join(TCP_TYPES)}")
    console.print(f"added {fault.describe()}", highlight=False)


@fault_app.command("loss")
@one_line_errors
def fault_loss(service: str, percent: Annotated[str, typer.Argument(help="e.g. 20%")]) -> None:
    """Drop a share of the real packets reaching SERVICE (kernel)."""
    try:
        value = float(percent.rstrip("%"))
    except ValueError:
        raise FaultError(f"loss must be a percentage like 20%, got {percent!r}") from None
    console.print(f"added {_faults().loss(service, value).describe()}", highlight=False)


@fault_app.command("rate-limit")
@one_line_errors
def fault_rate_limit(service: str, kbit: float) -> None:
    """Limit SERVICE's egress bandwidth to KBIT kbit/s (kernel, tbf)."""
    console.print(f"added {_faults().rate_limit(service, kbit).describe()}", highlight=False)


@fault_app.command("partition")
@one_line_errors
def fault_partition(a: str, b: str) -> None:
    """Cut every packet between two services, both directions (kernel)."""
    console.print(f"added {_faults().partition(a, b).describe()}", highlight=False)


@fault_app.command("delay")
@one_line_errors
def fault_delay(service: str, ms: float, jitter: float = 0) -> None:
    """Delay packets leaving SERVICE (kernel netem; not every kernel has it)."""
    console.print(f"added {_faults().delay(service, ms, jitter).describe()}", highlight=False)


@fault_app.command("container")
@one_line_errors
def fault_container(
    action: Annotated[str, typer.Argument(help="stop, kill, pause or restart")], service: str
) -> None:
    """Stop, SIGKILL, pause or restart SERVICE's container (`fault clear` brings it back)."""
    if action not in ("stop", "kill", "pause", "restart"):
        raise FaultError(f"unknown container fault {action!r}; known: stop, kill, pause, restart")
    console.print(f"done: {getattr(_faults(), action)(service).describe()}", highlight=False)


@fault_app.command("http")
@one_line_errors
def fault_http(
    service: str,
    status: Annotated[int | None, typer.Option(help="Answer with this status.")] = None,
    delay_ms: Annotated[float | None, typer.Option(help="Delay each answer.")] = None,
    malformed: Annotated[bool, typer.Option(help="Corrupt the body.")] = False,
    drop: Annotated[bool, typer.Option(help="Close the connection without answering.")] = False,
    times: Annotated[int | None, typer.Option(help="Only the next N requests.")] = None,
    fraction: Annotated[float | None, typer.Option(help="Only this share of requests.")] = None,
    path: Annotated[str | None, typer.Option(help="Only paths matching this regex.")] = None,
) -> None:
    """An HTTP fault rule in a mock (namespace `default`)."""
    fault = _faults().http(
        service,
        status=status,
        delay_ms=delay_ms,
        malformed=malformed,
        drop=drop,
        times=times,
        fraction=fraction,
        path=path,
    )
    console.print(f"added {fault.describe()}", highlight=False)


def _targets(stack: Stack, service: str | None) -> list[Target]:
    names = [service] if service else stack.topology.names
    containers = stack.containers()
    return [Target(n, containers[n], stack.sync_proxies) for n in names if n in containers]


@fault_app.command("list")
@one_line_errors
def fault_list() -> None:
    """Every fault present on the stack, on every layer."""
    stack = _up_stack()
    table = Table(title=f"faults on {stack.project}")
    for column in ("layer", "where", "fault"):
        table.add_column(column)
    for proxy in stack.toxiproxy.proxies().values():
        if not proxy.enabled:
            table.add_row("tcp", proxy.name, "down")
        for toxic in proxy.toxics:
            table.add_row("tcp", proxy.name, f"{toxic.type} {toxic.stream} {toxic.attributes}")
    for target in _targets(stack, None):
        state = target.container.attrs["State"]
        if state.get("Paused") or not state.get("Running"):
            table.add_row("container", target.service, str(state.get("Status")))
            continue
        for rule in kernel.inspect(target):
            table.add_row("kernel", target.service, rule)
        if target.service in http.MOCKS:
            for http_rule in http.rules(stack.direct_address(target.service).url, "default"):
                table.add_row("http", target.service, str(http_rule))
    console.print(table)


@fault_app.command("clear")
@one_line_errors
def fault_clear(
    service: Annotated[str | None, typer.Argument(help="Only this service.")] = None,
) -> None:
    """Revert every fault on the stack (or on one service), on every layer."""
    stack = _up_stack()
    if service:
        stack.topology.get(service)
    for target in _targets(stack, service):
        container.recover(target)
    for proxy in stack.toxiproxy.proxies():
        if service is None or proxy.split("--", 1)[0] == service:
            tcp.clear_proxy(stack.toxiproxy, proxy)
    for target in _targets(stack, service):
        kernel.clear_namespace(target)
        if target.service in http.MOCKS:
            http.clear_rules(stack.direct_address(target.service).url, "default")
    console.print(f"cleared {service or 'every service'}")


@scenario_app.command("run")
@one_line_errors
def scenario_run(file: Path) -> None:
    """Play a scenario on the `harness up` stack; everything is cleared at the end."""
    plan = Scenario.load(file)
    console.print(f"scenario {plan.name} (seed {plan.seed}), {len(plan.steps)} steps")
    plan.run(
        _faults(), report=lambda at, what: console.print(f"{at:7.2f} s  {what}", highlight=False)
    )


def main() -> None:  # pragma: no cover - console script shim
    """Entry point for `python -m harness.cli`."""
    app(prog_name="harness")


if __name__ == "__main__":  # pragma: no cover
    main()
