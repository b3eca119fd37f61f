"""Waiting until services are healthy: Docker's health status, a container's own healthcheck run
at once, an HTTP health path; a failure carries the services' last log lines and Docker's events.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import httpx
from docker.errors import APIError
from docker.models.containers import Container

from harness import _events
from harness._errors import HarnessError, HealthTimeout, ServiceFailed
from harness._stack import addresses
from harness._stack.inspection import Inspector

Progress = Callable[[str, str], None]  # (service, state)


def wait_healthy(
    inspector: Inspector,
    services: Sequence[str],
    *,
    timeout: float,
    progress: Progress | None,
    since: float | None,
    own_checks: Mapping[str, Callable[[], bool]] | None = None,
) -> None:
    """`Stack.wait_healthy`: one sparse list call a poll, each change of state reported once
    (an event, and `progress`); a stop, a removal or the deadline raises `HealthTimeout`.
    `own_checks` default to each container's own healthcheck, run by the harness too."""
    since = time.time() if since is None else since
    if own_checks is None:  # the engine may never run them (Podman without systemd)
        found = {name: own_check(inspector, name) for name in services}
        own_checks = {name: check for name, check in found.items() if check}
    deadline = time.monotonic() + timeout
    pending = set(services)
    reported: dict[str, str] = {}
    while pending:
        states = inspector.health_states()
        for name in sorted(pending):
            state = states.get(name, "missing")
            check = (own_checks or {}).get(name)
            # "running": an engine that reports no health (Podman's API) for a container that
            # has a healthcheck (it has an own check)
            if state in ("starting", "running") and check is not None and check():
                state = "healthy"
            if reported.get(name) != state:
                _events.emit("health", service=name, state=state)
                if progress:
                    progress(name, state)
            if state == "healthy":
                pending.discard(name)
            elif state in ("exited", "dead"):
                raise _unhealthy(
                    inspector,
                    f"service {name} stopped before becoming healthy ({state})",
                    [name],
                    since,
                )
            elif state == "missing" and reported.get(name, "missing") != "missing":
                raise _unhealthy(
                    inspector,
                    f"service {name}'s container was removed before it became healthy "
                    "(by another process: see the container events)",
                    [name],
                    since,
                )
            reported[name] = state
        if pending and time.monotonic() > deadline:
            late = sorted(pending)
            names = ", ".join(f"{name} ({states.get(name, 'missing')})" for name in late)
            raise _unhealthy(
                inspector,
                f"service(s) {names} not healthy after {timeout:.0f} s "
                "(raise it with --health-timeout)",
                late,
                since,
            )
        if pending:
            time.sleep(0.1)  # one sparse list call a poll: cheap


def own_check(inspector: Inspector, name: str, every: float = 0.5) -> Callable[[], bool] | None:
    """The container's own healthcheck, run by the harness (docker exec, as Docker runs
    it), at most once per `every` seconds: True when it passes. None without a CMD /
    CMD-SHELL healthcheck. (An engine may never run it itself: Podman without systemd.)"""
    container = inspector.containers().get(name)
    return None if container is None else container_check(container, every)


def container_check(container: Container, every: float = 0.5) -> Callable[[], bool] | None:
    """`own_check` for a container in hand."""
    test = list((container.attrs["Config"].get("Healthcheck") or {}).get("Test") or [])
    if test[:1] == ["CMD"]:
        command = test[1:]
    elif test[:1] == ["CMD-SHELL"] and len(test) == 2:
        command = ["/bin/sh", "-c", test[1]]
    else:
        return None
    last = [0.0]

    def passes() -> bool:
        if time.monotonic() - last[0] < every:
            return False
        last[0] = time.monotonic()
        try:
            return bool(container.exec_run(command).exit_code == 0)
        except APIError:  # stopped meanwhile: Docker's state says so at the next poll
            return False

    return passes


def container_exit(inspector: Inspector, name: str) -> Callable[[], str | None]:
    """For `wait_http`: why the service's container ended, once it has."""

    def exited() -> str | None:
        state = inspector.health_states().get(name, "missing")
        return f"container {state}" if state in ("exited", "dead") else None

    return exited


def wait_http(
    inspector: Inspector,
    name: str,
    path: str,
    timeout: float,
    exited: Callable[[], str | None],
) -> None:
    """Poll `GET <its address>/path` until 2xx; fail at once when it exits."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    with httpx.Client(timeout=2) as client:
        while True:
            ended = exited()
            if ended:
                raise ServiceFailed(f"service {name} {ended}\n{_tail(inspector, name)}")
            try:
                answer = client.get(f"{addresses.under_test(inspector, name).url}{path}")
                if answer.is_success:
                    return
                last = f"GET {path} answered {answer.status_code}"
            except httpx.TransportError as error:
                last = f"GET {path}: {type(error).__name__}"
            except HarnessError as error:  # its container has not published its port yet
                last = str(error)
            if time.monotonic() > deadline:
                raise ServiceFailed(
                    f"service {name} not healthy after {timeout:.0f} s ({last}; "
                    f"raise health-timeout)\n{_tail(inspector, name)}"
                )
            time.sleep(0.1)


def _tail(inspector: Inspector, name: str) -> str:
    return f"--- last log lines of {name} ---\n{inspector.logs(name, 20).rstrip()}"


def _unhealthy(
    inspector: Inspector, message: str, services: list[str], since: float
) -> HealthTimeout:
    return HealthTimeout(
        message,
        {name: inspector.logs(name) for name in services},
        inspector.container_events(since),
    )
