"""The testcontainers path: one throwaway container of a service, from the SAME compose definition.

For tests that destroy their backend (kill it, fill it, corrupt it) without touching the shared
stack. Image, entrypoint, command, environment, config files and healthcheck all come from
`docker compose config`; the container is labeled with the run so the harness's reaper covers it
(testcontainers' Ryuk is turned off: its image cannot be pulled offline and it would start once per
xdist worker).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

from docker.errors import APIError
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import HealthcheckWaitStrategy

from harness import _docker, _labels, _paths
from harness import _images as images
from harness import _topology as topology
from harness._compose import Compose
from harness._errors import HarnessError
from harness._stack import Address, addresses

testcontainers_config.ryuk_disabled = True

_DURATION = re.compile(r"(?P<value>[\d.]+)(?P<unit>ns|us|ms|s|m|h)")
_NANOS = {"ns": 1, "us": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def _nanoseconds(duration: str | None) -> int:
    if not duration:
        return 0
    return int(sum(float(m["value"]) * _NANOS[m["unit"]] for m in _DURATION.finditer(duration)))


@dataclass(frozen=True)
class ServiceDefinition:
    """What `docker run` needs to start a service exactly as compose would."""

    name: str
    image: str
    container_port: int
    entrypoint: list[str] | None
    command: list[str] | None
    environment: dict[str, str]
    healthcheck: dict[str, Any]
    binds: dict[str, dict[str, str]]


def _config_file(service: str, name: str, content: str) -> str:
    """A compose `content` config as a file to bind into an isolated container (a local
    engine's: the shared stack gets it copied in by compose)."""
    path = _paths.state_dir() / "configs" / service / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    path.chmod(0o644)
    return str(path)


@cache
def definition(service: str) -> ServiceDefinition:
    """Read one service's normalized definition from the stack's compose file."""
    spec = topology.load().get(service)
    model = Compose("hx-definition", [_paths.compose_file()], {}).config()
    raw = model["services"][service]
    check = raw.get("healthcheck") or {}
    healthcheck = {
        "test": check["test"],
        "interval": _nanoseconds(check.get("interval")),
        "timeout": _nanoseconds(check.get("timeout")),
        "retries": int(check.get("retries", 3)),
        "start_period": _nanoseconds(check.get("start_period")),
    }
    binds = {
        _config_file(service, entry["source"], model["configs"][entry["source"]]["content"]): {
            "bind": entry["target"],
            "mode": "ro",
        }
        for entry in raw.get("configs", [])
    }
    environment = {key: str(value) for key, value in (raw.get("environment") or {}).items()}
    return ServiceDefinition(
        name=service,
        image=raw["image"],
        container_port=spec.container_port,
        entrypoint=raw.get("entrypoint"),
        command=raw.get("command"),
        environment=environment,
        healthcheck=healthcheck,
        binds=binds,
    )


@dataclass
class IsolatedService:
    """A running throwaway container of one service."""

    service: str
    address: Address
    container: DockerContainer
    container_port: int

    def refresh_address(self) -> None:
        """Re-read the published port (a restarted container may get a new one)."""
        wrapped = self.container.get_wrapped_container()
        wrapped.reload()
        address = addresses.published(wrapped, self.container_port)
        if address is None:
            raise HarnessError(f"isolated {self.service} publishes no port")
        self.address = address

    @property
    def docker(self) -> Any:
        """The docker SDK container, for stop/kill/pause in destructive tests."""
        return self.container.get_wrapped_container()


def _start_named(container: DockerContainer, prefix: str, attempts: int = 20) -> None:
    """Start it as `<prefix><n>`, n one above the highest in use (another worker may take the
    same n at once: then the next)."""
    taken = [
        c.name
        for c in _docker.client().containers.list(all=True, filters={"name": prefix})
        if c.name.startswith(prefix)
    ]
    highest = max(
        (int(name[len(prefix) :]) for name in taken if name[len(prefix) :].isdigit()), default=0
    )
    for n in range(highest + 1, highest + 1 + attempts):
        container.with_name(f"{prefix}{n}")
        try:
            container.start()
            return
        except APIError as error:
            if error.status_code != 409:
                raise
    raise HarnessError(f"no free container name {prefix}<n> after {attempts} tries")


@contextmanager
def isolated(service: str, run: str, *, timeout: float = 120.0) -> Iterator[IsolatedService]:
    """Start one container of `service` from its compose definition; removed on exit."""
    spec = definition(service)
    images.require([spec.image])
    labels = {_labels.RUN: run, _labels.OWNER: _labels.owner_token(), _labels.SERVICE: service}
    container = DockerContainer(
        spec.image,
        command=spec.command,  # type: ignore[arg-type]
        env=spec.environment,
        entrypoint=spec.entrypoint,
        labels=labels,
        healthcheck=spec.healthcheck,
        init=True,
        _wait_strategy=HealthcheckWaitStrategy().with_startup_timeout(int(timeout)),
    )
    bind = addresses.publish_host()
    container.ports = {f"{spec.container_port}/tcp": (bind, None)}  # type: ignore[dict-item]
    for host_path, mount in spec.binds.items():
        container.with_volume_mapping(host_path, mount["bind"], mount["mode"])
    try:
        _start_named(container, f"{run}-{service}-isolated-")
        started = IsolatedService(service, Address(bind, 0), container, spec.container_port)
        started.refresh_address()
        yield started
    finally:
        container.stop()
