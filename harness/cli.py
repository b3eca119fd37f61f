"""How people drive the stack: the `harness` command line (typer + rich)."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from harness import _config as harness_config
from harness import _engine, _labels, _scaffold, _state, reports
from harness import _images as images
from harness import _reaper as reaper
from harness import _topology as topology
from harness._errors import HarnessError
from harness._stack import PROXY, Stack
from harness._topology import FRONT_SERVICES, HTTP_LAYER_SERVICE
from harness._toxiproxy import Proxy
from harness.blender.cli import app as blender_app
from harness.faults import FaultError, Faults, Target, container, http, kernel, tcp
from harness.faults.scenario import Scenario
from harness.reports import _terminal as terminal

app = typer.Typer(
    help="Drive the mediastack-harness stack: images, up/down, status, logs, faults, reports.",
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
app.add_typer(blender_app, name="blender")

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
            errors.print(f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
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
    timeout: Annotated[
        float | None,
        typer.Option(help="Seconds to wait for health (default: the project's health-timeout)."),
    ] = None,
) -> None:
    """Start the stack (or some services) until healthy; tests attach with --attach-stack."""
    project = harness_config.current()  # none: one line naming `harness init`
    os.environ.update(project.environment())
    timeout = project.config.health_timeout if timeout is None else timeout
    names = _services(services)
    stack = Stack(_state.UP_PROJECT, owner=_labels.KEPT)
    with console.status("starting…") as status:

        def progress(service: str, state: str) -> None:
            status.update(f"{service}: {state}")

        started = stack.up(names, timeout=timeout, progress=progress)
    _state.write_up_record(stack.project, started)
    _print_status(stack, faults=False)  # a fresh stack has none


_KNOWN_BACKENDS = ", ".join(harness_config.KNOWN_BACKENDS)


@app.command()
@one_line_errors
def init(
    backends: Annotated[
        str | None,
        typer.Option(
            help=f"Comma-separated built-in backends, of {_KNOWN_BACKENDS} (default: all but "
            "prometheus, which scrapes your services and evaluates alert rules)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite files you changed.")] = False,
    directory: Annotated[Path, typer.Option("--dir", help="The repository to scaffold.")] = Path(),
    shards: Annotated[
        int,
        typer.Option(help="Run CI's integration tests as N duration-balanced shards, merged."),
    ] = 1,
) -> None:
    """Scaffold this repository: config, compose overlay, sample tests, Makefile targets, CI."""
    chosen = [name.strip() for name in (backends or "").split(",") if name.strip()]
    scaffolded = _scaffold.init(directory.resolve(), chosen or None, force=force, shards=shards)
    for item in scaffolded:
        where = item.path.relative_to(directory.resolve())
        if item.action == "print":
            console.print(f"{where}: add these targets (it exists, so it was left alone):")
            console.out(_scaffold.MAKEFILE)
        elif item.action == "kept":
            console.print(f"{where}: kept (you changed it; --force overwrites)", highlight=False)
        else:
            console.print(f"{where}: {item.action}", highlight=False)
    console.print(
        "next: `harness doctor` (can the stack run here?), `harness images build`, "
        "then `pytest -n auto tests/integration`"
    )


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
        reaped = reaper.reap_dead_runs()
        console.print(f"reaped {len(reaped)} run(s): {', '.join(reaped) or '-'}")


def _proxies(stack: Stack) -> dict[str, Proxy]:
    try:
        return stack.toxiproxy.proxies()
    except HarnessError:  # no fault proxy running: nothing to show
        return {}


def _shown(stack: Stack, health: dict[str, str], everything: bool) -> dict[str, str]:
    """The rows of `status`: the fault proxy, the project's backends and services under test,
    and any other service that has a container; with `everything`, every known service."""
    backends = [backend.name for backend in stack.topology.select(None)]
    own = {*FRONT_SERVICES, *backends, *stack.topology.under_test}
    return {
        service: state
        for service, state in health.items()
        if everything or service in own or state != "missing"
    }


def _print_status(stack: Stack, *, faults: bool = True, everything: bool = False) -> None:
    proxies = _proxies(stack)
    active: dict[str, list[str]] = {}
    for layer, where, fault in _active_faults(stack, proxies, strict=False) if faults else []:
        active.setdefault(where.split("--", 1)[0], []).append(f"{layer}: {where} {fault}")
    table = Table(title=f"stack {stack.project}")
    for column in ("service", "health", "address", "proxies", "active faults"):
        table.add_column(column)
    for service, health in _shown(stack, stack.health(), everything).items():
        if health in ("missing", "exited", "dead"):
            address = "-"
        elif service == PROXY:  # the fault proxy's own API
            address = f"{stack.proxy_api()} (API)"
        elif service == HTTP_LAYER_SERVICE:  # the HTTP fault layer's own API
            address = f"{stack.http_layer.api()} (API)"
        elif service in stack.topology.under_test:  # the project's own, behind its own proxy
            address = f"{stack.address(service).url} (under test)"
        else:
            address = str(stack.address(service))
        own = [p for p in proxies.values() if p.name.split("--", 1)[0] == service]
        listed = "\n".join(f"{p.name} {stack.proxy_address(p)}" for p in own) or "-"
        table.add_row(service, health, address, listed, "\n".join(active.get(service, [])) or "-")
    console.print(table)


@app.command()
@one_line_errors
def status(
    everything: Annotated[
        bool,
        typer.Option("--all", help="Also the backends the project does not use (as `missing`)."),
    ] = False,
) -> None:
    """Health, address, proxies and active faults of the `harness up` stack's services: the
    project's backends and services under test, and any other service with a container."""
    _print_status(Stack(_state.read_up_record()["project"]), everything=everything)


@app.command()
@one_line_errors
def logs(
    service: str,
    tail: Annotated[int, typer.Option(help="How many lines.")] = 50,
) -> None:
    """Print a service's last log lines."""
    topology.load().reachable(service)
    console.out(Stack(_state.read_up_record()["project"]).logs(service, tail))


def _image_keys(chosen: list[str] | None, everything: bool) -> list[str]:
    """The images a command is about: those named, every one (--all), else the project's."""
    known = images.recipes()
    unknown = [key for key in chosen or [] if key not in known]
    if unknown:
        raise HarnessError(f"unknown image {unknown[0]!r}; known: {', '.join(known)}")
    if chosen:
        return chosen
    if everything:
        return list(known)
    return images.needed(harness_config.current_or_none())


@images_app.command("build")
@one_line_errors
def images_build(
    image: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="IMAGE", help="Only these images, e.g. netfault (default: the project's)."
        ),
    ] = None,
    everything: Annotated[
        bool,
        typer.Option(
            "--all", help="Every image of the stack, not only the ones this project uses."
        ),
    ] = False,
    offline: Annotated[bool, typer.Option(help="Build everything locally, never pull.")] = False,
    force: Annotated[bool, typer.Option(help="Rebuild even when unchanged.")] = False,
) -> None:
    """Pull the pinned upstream images, or build local stand-ins when no registry answers: those
    the project uses: its backends', their fault proxy's, its Blender add-on's (`images list`)."""
    keys = _image_keys(image, everything)
    if not image:  # the parents are built when a child needs them (--force rebuilds the rest)
        keys = [key for key in keys if key not in images.PARENTS]
    with console.status("images…") as progress:

        def report(line: str) -> None:
            progress.update(line)
            if not line.split(": ", 1)[-1].startswith("Step "):
                console.print(line, highlight=False)

        builder = images.ImageBuilder(offline=True if offline else None, report=report)
        builder.ensure(keys, force=force)


@images_app.command("build-app")
@one_line_errors
def images_build_app(
    tag: Annotated[str, typer.Argument(help="The image to build, e.g. myapi:local.")],
    source: Annotated[
        list[Path], typer.Option(help="A package directory or file copied under /app (repeat).")
    ],
    requirement: Annotated[
        list[str] | None,
        typer.Option("-r", "--requirement", help="A requirements file, or a requirement (repeat)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even when unchanged.")] = False,
) -> None:
    """Build your Python service's image offline: the stack's python-app recipe, a wheelhouse
    built here, your sources under /app (reference it as `image: TAG` in your compose file)."""
    wanted: list[str] = []
    for item in requirement or []:
        path = Path(item)
        wanted += images.read_requirements(path) if path.suffix == ".txt" else [item]
    images.build_python_app(
        tag, wanted, source, report=lambda line: console.print(line, highlight=False), force=force
    )


@images_app.command("list")
@one_line_errors
def images_list(
    everything: Annotated[
        bool, typer.Option("--all", help="Every image of the stack, not only the project's.")
    ] = False,
) -> None:
    """Each image the project uses, whether present, and where it came from."""
    table = Table()
    for column in ("image", "tag", "origin", "state"):
        table.add_column(column)
    for row in images.listing(_image_keys(None, everything)):
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


TCP_TYPES = (*tcp.TOXICS, "down")  # Toxiproxy's toxics as harness.faults.tcp lists them
KINDS = (*TCP_TYPES, "http")


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """`Name: value` options as a dict, or a one-line error naming the option."""
    pairs = {}
    for value in values or []:
        name, colon, rest = value.partition(":")
        if not colon or not name.strip():
            raise FaultError(f"{option} takes 'Name: value', got {value!r}")
        pairs[name.strip()] = rest.strip()
    return pairs


@fault_app.command("add")
@one_line_errors
def fault_add(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(KINDS)} (or the service).")],
    service: Annotated[str, typer.Argument(help="The service (or the kind: either order).")],
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
    status: Annotated[int | None, typer.Option(help="http: answer with this status.")] = None,
    body: Annotated[str | None, typer.Option(help="http: the answer's body.")] = None,
    header: Annotated[
        list[str] | None, typer.Option(help="http: an answer header 'Name: value' (repeat).")
    ] = None,
    retry_after: Annotated[
        float | None, typer.Option(help="http: the answer's Retry-After (s).")
    ] = None,
    delay_ms: Annotated[float | None, typer.Option(help="http: delay (ms).")] = None,
    delay_max_ms: Annotated[
        float | None, typer.Option(help="http: uniform delay up to this (ms).")
    ] = None,
    delay_sigma: Annotated[
        float | None, typer.Option(help="http: lognormal delay, median --delay-ms.")
    ] = None,
    delay_at: Annotated[str | None, typer.Option(help="http: headers (default) or chunks.")] = None,
    reset: Annotated[
        str | None, typer.Option(help="http: reset before_headers or after_headers.")
    ] = None,
    truncate: Annotated[int | None, typer.Option(help="http: body bytes kept.")] = None,
    corrupt: Annotated[bool, typer.Option(help="http: corrupt the body.")] = False,
    body_rate: Annotated[float | None, typer.Option(help="http: body bytes/s.")] = None,
    hang: Annotated[bool, typer.Option(help="http: hold requests until cleared.")] = False,
    cut_after: Annotated[
        int | None, typer.Option(help="http: cut after N SSE events/messages/chunks.")
    ] = None,
    method: Annotated[str | None, typer.Option(help="http: only this method.")] = None,
    path: Annotated[str | None, typer.Option(help="http: only paths matching this glob.")] = None,
    path_regex: Annotated[
        str | None, typer.Option(help="http: only paths matching this regex.")
    ] = None,
    match_header: Annotated[
        list[str] | None, typer.Option(help="http: only with header 'Name: glob' (repeat).")
    ] = None,
    body_contains: Annotated[
        str | None, typer.Option(help="http: only bodies containing this.")
    ] = None,
    times: Annotated[int | None, typer.Option(help="http: only the next N requests.")] = None,
    every: Annotated[int | None, typer.Option(help="http: only every Nth request.")] = None,
    probability: Annotated[
        float | None, typer.Option(help="http: each with this probability (0..1).")
    ] = None,
) -> None:
    """Add a TCP or HTTP fault through the service's proxy (stays until `harness fault clear`):
    `harness fault add latency redis --ms 200`, `harness fault add litellm http --status 429
    --retry-after 2 --path '/chat/completions' --times 2`."""
    if kind not in KINDS and service in KINDS:
        kind, service = service, kind
    how: dict[str, Any] = {"direction": direction, "toxicity": toxicity}
    if kind == "http":
        if delay_at not in (None, "headers", "chunks"):
            raise FaultError(f"--delay-at is headers or chunks, got {delay_at!r}")
        if reset not in (None, "before_headers", "after_headers"):
            raise FaultError(f"--reset is before_headers or after_headers, got {reset!r}")
        rule: dict[str, Any] = dict(
            status=status,
            body=body,
            headers=_pairs(header, "--header"),
            retry_after=retry_after,
            delay_ms=delay_ms,
            delay_max_ms=delay_max_ms,
            delay_sigma=delay_sigma,
            delay_at=delay_at,
            reset=reset,
            truncate=truncate,
            corrupt=corrupt,
            body_rate=body_rate,
            hang=hang,
            cut_after=cut_after,
            method=method,
            path=path,
            path_regex=path_regex,
            match_headers=_pairs(match_header, "--match-header"),
            body_contains=body_contains,
            times=times,
            every=every,
            probability=probability,
        )
        http.validate(topology.load(), service, rule)  # before any stack is needed
        fault: Any = _faults().http(service, **rule)
    elif kind == "down":
        fault = _faults().down(service)
    elif kind == "latency":
        fault = _faults().latency(service, ms, jitter, **how)
    elif kind == "bandwidth":
        fault = _faults().bandwidth(service, rate, **how)
    elif kind in ("timeout", "reset_peer"):
        fault = getattr(_faults(), kind)(service, ms, **how)
    elif kind == "slow_close":
        fault = _faults().slow_close(service, ms, **how)
    elif kind == "slicer":
        fault = _faults().slicer(service, size, variation, delay_us, **how)
    elif kind == "limit_data":
        fault = _faults().limit_data(service, size, **how)
    else:
        raise FaultError(f"unknown fault {kind!r}; known: {', '.join(KINDS)}")
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


def _targets(stack: Stack, service: str | None) -> list[Target]:
    names = [service] if service else stack.topology.names
    containers = stack.containers()
    return [Target(n, containers[n], stack.sync_proxies) for n in names if n in containers]


def _kernel_rules(target: Target, strict: bool) -> list[str]:
    try:
        return kernel.inspect(target)
    except Exception as error:
        if strict:
            raise
        return [f"unknown ({type(error).__name__}: {str(error).splitlines()[0][:80]})"]


def _active_faults(
    stack: Stack, proxies: dict[str, Proxy], *, strict: bool = True
) -> list[tuple[str, str, str]]:
    """(layer, where, fault) of every fault present on the stack; not `strict`: a layer that
    cannot be inspected shows as `unknown` instead of failing."""
    found = []
    for proxy in proxies.values():
        if not proxy.enabled:
            found.append(("tcp", proxy.name, "down"))
        for toxic in proxy.toxics:
            found.append(("tcp", proxy.name, f"{toxic.type} {toxic.stream} {toxic.attributes}"))
    for target in _targets(stack, None):
        state = target.container.attrs["State"]
        if state.get("Paused") or not state.get("Running"):
            found.append(("container", target.service, str(state.get("Status"))))
            continue
        found += [("kernel", target.service, rule) for rule in _kernel_rules(target, strict)]
    for name, route in _routes(stack, strict).items():
        found += [("http", name, _rule_text(rule)) for rule in route["faults"]]
    return found


def _routes(stack: Stack, strict: bool = True) -> dict[str, dict[str, Any]]:
    """The HTTP fault layer's routes (none when it is not running and not `strict`)."""
    try:
        return stack.http_layer.client.routes()
    except HarnessError:
        if strict:
            raise
        return {}


def _rule_text(rule: dict[str, Any]) -> str:
    shown = {k: v for k, v in rule.items() if k not in ("id", "seed", "matched", "hits")}
    return f"{rule['id']} {shown} hits {rule['hits']}/{rule['matched']}"


@fault_app.command("list")
@one_line_errors
def fault_list() -> None:
    """Every fault present on the stack, on every layer."""
    stack = _up_stack()
    table = Table(title=f"faults on {stack.project}")
    for column in ("layer", "where", "fault"):
        table.add_column(column)
    for row in _active_faults(stack, stack.toxiproxy.proxies()):
        table.add_row(*row)
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
    for route in _routes(stack):
        if service is None or route.split("--", 1)[0] == service:
            stack.http_layer.client.clear_faults(route)
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


# -- reports -----------------------------------------------------------------------------------
class _ShowByDefault(TyperGroup):
    """`harness report [RUN]` is `harness report show [RUN]`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["show", *args]
        return super().parse_args(ctx, args)


report_app = typer.Typer(
    cls=_ShowByDefault, help="A run's summary (the default), or merge shards' reports."
)
app.add_typer(report_app, name="report")
durations_app = typer.Typer(help="The recorded test durations shards are balanced by.")
app.add_typer(durations_app, name="durations")


@report_app.command("show")
@one_line_errors
def report_show(
    run: Annotated[str | None, typer.Argument(help="Run id (default: the newest run).")] = None,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Reports directory (default: HARNESS_REPORTS_DIR or reports/)."),
    ] = None,
) -> None:
    """A run's summary table and the path of its HTML report."""
    found = reports.find_run(reports.reports_dir(str(directory) if directory else None), run)
    terminal.show(console, found)


@report_app.command("merge")
@one_line_errors
def report_merge(
    directories: Annotated[
        list[Path], typer.Argument(help="Shards' report directories, or directories of them.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Where the merged report goes.")],
    history: Annotated[
        Path | None,
        typer.Option(help="A directory kept between CI runs: the last runs' outcomes, for flaky."),
    ] = None,
    keep: Annotated[int, typer.Option(min=2, help="Runs the history keeps.")] = 20,
    allow_mixed: Annotated[
        bool, typer.Option("--allow-mixed", help="Merge reports of different commits.")
    ] = False,
) -> None:
    """One report.json, JUnit, Markdown, job summary and HTML of several runs (a suite's
    shards): every test once, a timeline lane per shard and worker."""
    from harness.reports import _merge

    merged, problems = _merge.merge_into(
        directories, out, history=history, keep=keep, allow_mixed=allow_mixed
    )
    summary = merged["summary"]
    counts = ", ".join(f"{n} {k}" for k, n in summary.items() if k != "total")
    console.print(
        f"merged {len(merged['shards'])} reports: {summary['total']} tests ({counts or 'none'}), "
        f"{len(merged['flaky'])} flaky; in {out}",
        highlight=False,
    )
    if problems:
        raise HarnessError(f"merged report incomplete in {out}: {'; '.join(problems)}")


@durations_app.command("update")
@one_line_errors
def durations_update(
    directories: Annotated[
        list[Path], typer.Argument(help="Run reports (a shard's, a merged one, or their parents).")
    ],
    file: Annotated[
        Path | None,
        typer.Option("--file", help="The durations file (default: .harness-durations.json here)."),
    ] = None,
) -> None:
    """Fold the test durations of run reports into the durations file (commit it)."""
    from harness import _shards
    from harness.reports import _merge

    path = file or Path(_shards.DURATIONS_FILE)
    durations = _shards.load_durations(path)
    found = _shards.recorded(_merge.load(d) for d in _merge.find(directories))
    _shards.write_durations(path, durations | found)
    console.print(
        f"{path}: {len(found)} tests' durations from {len(directories)} report(s); "
        f"{len(durations | found)} tests in all",
        highlight=False,
    )


@app.command()
def doctor() -> None:
    """Can the stack run on this engine? One line per check and its fix; exit 1 when it cannot."""
    from harness import _doctor

    raise typer.Exit(_doctor.main(typer.echo))


def main() -> None:  # pragma: no cover - console script shim
    """Entry point for `python -m harness.cli`."""
    app(prog_name="harness")


if __name__ == "__main__":  # pragma: no cover
    main()
