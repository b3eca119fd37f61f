"""What the stack is: its services, their client ports and images, read from compose.yaml."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from harness import _paths
from harness.errors import UnknownService

_IMAGE_REF = re.compile(r"^\$\{(?P<var>[A-Z0-9_]+):-(?P<default>[^}]+)\}$")


@dataclass(frozen=True)
class Service:
    """One backend of the stack as compose defines it."""

    name: str
    container_port: int
    image_var: str
    default_image: str

    @property
    def image(self) -> str:
        """The image in effect: the env var's value, else the pinned default."""
        return os.environ.get(self.image_var) or self.default_image

    @property
    def port_var(self) -> str:
        """Env var that fixes the host port (empty: any free port)."""
        return f"HARNESS_{self.name.upper()}_PORT"


PROXY_SERVICE = "toxiproxy"


@dataclass(frozen=True)
class Topology:
    """The backends of one compose file, in file order, and the fault proxy in front of them."""

    compose_file: Path
    services: dict[str, Service]
    proxy_image_var: str
    proxy_default_image: str

    @property
    def proxy_image(self) -> str:
        """The Toxiproxy image in effect."""
        return os.environ.get(self.proxy_image_var) or self.proxy_default_image

    def get(self, name: str) -> Service:
        """The service called `name`, or an error that lists the known ones."""
        try:
            return self.services[name]
        except KeyError:
            known = ", ".join(self.services)
            raise UnknownService(f"unknown service {name!r}; known services: {known}") from None

    def select(self, names: Sequence[str] | None) -> list[Service]:
        """The named services (all when `names` is empty), validated."""
        if not names:
            return list(self.services.values())
        return [self.get(name) for name in names]

    @property
    def names(self) -> list[str]:
        """Service names in file order."""
        return list(self.services)


def _parse_service(name: str, spec: dict) -> Service:
    image = str(spec["image"])
    match = _IMAGE_REF.match(image)
    if not match:
        raise ValueError(
            f"service {name}: image must be ${{HARNESS_..._IMAGE:-default}}, got {image}"
        )
    ports = spec.get("ports") or []
    if len(ports) != 1:
        raise ValueError(f"service {name}: exactly one client-facing port must be published")
    container_port = int(str(ports[0]).rsplit(":", 1)[-1].split("/")[0])
    return Service(name, container_port, match["var"], match["default"])


@cache
def load(compose_file: Path | None = None) -> Topology:
    """Parse the stack's compose file (no Docker needed)."""
    path = compose_file or _paths.compose_file()
    document = yaml.safe_load(path.read_text())
    specs = dict(document["services"])
    proxy = _IMAGE_REF.match(str(specs.pop(PROXY_SERVICE)["image"]))
    if proxy is None:
        raise ValueError(f"service {PROXY_SERVICE}: image must be ${{HARNESS_..._IMAGE:-default}}")
    services = {name: _parse_service(name, spec) for name, spec in specs.items()}
    return Topology(path, services, proxy["var"], proxy["default"])
