"""The plugin's command-line options, and the settings a run reads from them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest

from harness import _config as harness_config
from harness import _topology as topology
from harness._errors import HarnessError


@dataclass(frozen=True)
class Settings:
    """The plugin's command-line options."""

    services: tuple[str, ...]
    keep: bool
    attach: str | None
    health_timeout: float


def add_options(parser: pytest.Parser) -> None:
    """`--stack-services`, `--keep-stack`, `--attach-stack`, `--attach-run`, `--harness-shard`,
    `--harness-durations`, `--health-timeout`.

    None takes an optional value: an option that may or may not take one swallows the path after
    it (`--attach-stack tests/x.py` would attach to a stack named `tests/x.py`)."""
    group = parser.getgroup("mediastack-harness")
    group.addoption(
        "--stack-services",
        default=os.environ.get("HARNESS_SERVICES", ""),
        help="comma-separated services to start (default: all; env HARNESS_SERVICES)",
    )
    group.addoption(
        "--keep-stack", action="store_true", help="leave the stack running after the run"
    )
    group.addoption(
        "--attach-stack",
        action="store_const",
        const="@up",
        default=None,
        help="use the running stack `harness up` / `make up` started",
    )
    group.addoption(
        "--attach-run",
        dest="attach_stack",
        metavar="RUN",
        help="use the running stack of this run (one kept with --keep-stack, say)",
    )
    group.addoption(
        "--harness-shard",
        default=None,
        metavar="I/N",
        help="run shard I of N: the selected tests split by the durations file (default: all)",
    )
    group.addoption(
        "--harness-durations",
        default=None,
        metavar="FILE",
        help="the recorded durations shards are balanced by (default: .harness-durations.json "
        "in the project; `harness durations update` writes it)",
    )
    group.addoption(
        "--health-timeout",
        type=float,
        default=None,
        help="seconds to wait for healthy services (default: the project's health-timeout)",
    )


def _config_problem() -> str | None:
    try:
        harness_config.current()
    except HarnessError as error:
        return str(error)
    return None


def settings(config: pytest.Config) -> Settings:
    """The options, checked: a missing or bad project configuration, or an unknown service,
    fails the test asking for the stack with one line naming the fix."""
    problem = _config_problem()
    if problem:  # no configuration (or a bad one): one line, naming the fix
        pytest.fail(problem, pytrace=False)
    return read(config.option)


def read(options: Any) -> Settings:
    """The settings from parsed options (`config.option`, or before collection
    `config.known_args_namespace`); a bad configuration or an unknown service is a
    `HarnessError`."""
    project = harness_config.current()
    names = str(getattr(options, "stack_services", "") or "").split(",")
    services = tuple(s.strip() for s in names if s.strip())
    topology.load().select(services)  # unknown names fail here, listing the known ones
    timeout = getattr(options, "health_timeout", None)
    return Settings(
        services=services,
        keep=bool(getattr(options, "keep_stack", False)),
        attach=getattr(options, "attach_stack", None),
        health_timeout=project.config.health_timeout if timeout is None else timeout,
    )
