"""What the stack is: its services, their client ports and images, read from compose.yaml."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from harness import _paths
from harness.errors import UnknownService

_IMAGE_REF = re.compile(r"^\$\{(?P<var>[A-Z0-9_]+):-(?P<default>[^}]+)\}$")


@dataclass(frozen=True)
class _Container:
    """A compose service: its name and its image, overridable by an env var."""

    name: str
    image_var: str
    default_image: str

    @property
    def image(self) -> str:
        """The image in effect: the env var's value, else the pinned default."""
        return os.environ.get(self.image_var) or self.default_image

    @property
    def port_var(self) -> str:
        """Env var of its port (backends: empty means any free port; apps: set by the harness)."""
        return f"HARNESS_{self.name.upper()}_PORT"


@dataclass(frozen=True)
class Service(_Container):
    """One backend of the stack as compose defines it."""

    container_port: int = 0


@dataclass(frozen=True)
class App(_Container):
    """A system under test the stack can also run: a compose profile, a client of the backends.

    It runs on the host network on 127.0.0.1 and reaches every backend it depends on through
    that backend's default proxy (`HARNESS_PROXY_<BACKEND>` in its environment).
    """

    profile: str = ""
    needs: tuple[str, ...] = ()


PROXY_SERVICE = "toxiproxy"


@dataclass(frozen=True)
class Topology:
    """The backends of one compose file, in file order, and the fault proxy in front of them."""

    compose_file: Path
    services: dict[str, Service]
    proxy_image_var: str
    proxy_default_image: str
    apps: dict[str, App] = field(default_factory=dict)

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

    def app(self, name: str) -> App:
        """The app called `name`, or an error that lists the known ones."""
        try:
            return self.apps[name]
        except KeyError:
            known = ", ".join(self.apps) or "none"
            raise UnknownService(f"unknown app {name!r}; known apps: {known}") from None

    def apps_of(self, profiles: Sequence[str]) -> list[App]:
        """The apps the given compose profiles run, validated."""
        known = sorted({app.profile for app in self.apps.values()})
        for profile in profiles:
            if profile not in known:
                raise UnknownService(
                    f"unknown profile {profile!r}; known profiles: {', '.join(known) or 'none'}"
                )
        return [app for app in self.apps.values() if app.profile in profiles]

    def select(self, names: Sequence[str] | None) -> list[Service]:
        """The named services (all when `names` is empty), validated."""
        if not names:
            return list(self.services.values())
        return [self.get(name) for name in names]

    @property
    def names(self) -> list[str]:
        """Service names in file order."""
        return list(self.services)


def _image_ref(name: str, spec: dict) -> re.Match[str]:
    image = str(spec["image"])
    match = _IMAGE_REF.match(image)
    if not match:
        raise ValueError(
            f"service {name}: image must be ${{HARNESS_..._IMAGE:-default}}, got {image}"
        )
    return match


def _parse_app(name: str, spec: dict) -> App:
    (profile,) = spec["profiles"]
    match = _image_ref(name, spec)
    needs = tuple(spec.get("depends_on") or ())
    return App(name, match["var"], match["default"], profile=profile, needs=needs)


def _parse_service(name: str, spec: dict) -> Service:
    match = _image_ref(name, spec)
    ports = spec.get("ports") or []
    if len(ports) != 1:
        raise ValueError(f"service {name}: exactly one client-facing port must be published")
    container_port = int(str(ports[0]).rsplit(":", 1)[-1].split("/")[0])
    return Service(name, match["var"], match["default"], container_port=container_port)


@cache
def load(compose_file: Path | None = None) -> Topology:
    """Parse the stack's compose file (no Docker needed)."""
    path = compose_file or _paths.compose_file()
    document = yaml.safe_load(path.read_text())
    specs = dict(document["services"])
    proxy = _IMAGE_REF.match(str(specs.pop(PROXY_SERVICE)["image"]))
    if proxy is None:
        raise ValueError(f"service {PROXY_SERVICE}: image must be ${{HARNESS_..._IMAGE:-default}}")
    apps = {name: _parse_app(name, spec) for name, spec in specs.items() if spec.get("profiles")}
    services = {
        name: _parse_service(name, spec) for name, spec in specs.items() if name not in apps
    }
    return Topology(path, services, proxy["var"], proxy["default"], apps)
