"""What the stack is: its services, their client ports and images, read from compose.yaml."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import yaml

from harness import _config as config
from harness import _paths
from harness._config import Project, ServiceConfig
from harness._errors import UnknownService

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
        """Env var of its host port (empty means any free port)."""
        return f"HARNESS_{self.name.upper()}_PORT"


@dataclass(frozen=True)
class Service(_Container):
    """One backend of the stack as compose defines it (packaged, or the project's own)."""

    container_port: int = 0
    own: bool = False  # defined by the adopting project's compose file (compose builds its image)
    http: bool = False  # speaks HTTP: its proxies pass through the HTTP fault layer

    @property
    def image(self) -> str:
        """The image in effect (a project's own backend: whatever its compose file says)."""
        return "" if self.own else super().image


@dataclass(frozen=True)
class UnderTest:
    """A service under test the project declares: a container of its compose file or a process.

    It starts after the backends it `needs` are healthy, reaches them through proxies of its own
    (`<backend>--<name>`), listens on its own port and has its own proxy in front.
    """

    name: str
    config: ServiceConfig
    needs: tuple[str, ...]

    @property
    def is_process(self) -> bool:
        """A host process (else a container of the project's compose file)."""
        return self.config.is_process

    @property
    def port_var(self) -> str:
        """Env var carrying its listen port into its compose definition."""
        return env_name(f"HARNESS_{self.name}_PORT")


def env_name(text: str) -> str:
    """An env var name from a service name (`vod-api` -> `VOD_API`)."""
    return re.sub(r"[^A-Za-z0-9]", "_", text).upper()


PROXY_SERVICE = "toxiproxy"
HTTP_LAYER_SERVICE = "httpfaults"  # the HTTP fault layer, behind Toxiproxy
FRONT_SERVICES = (PROXY_SERVICE, HTTP_LAYER_SERVICE)  # in front of every backend, always up
PROTOCOL_LABEL = "org.mediastack-harness.protocol"


@dataclass(frozen=True)
class Topology:
    """The backends of one compose file, in file order, and the fault proxy in front of them."""

    compose_file: Path
    services: dict[str, Service]
    proxy_image_var: str
    proxy_default_image: str
    under_test: dict[str, UnderTest] = field(default_factory=dict)
    defaults: tuple[str, ...] = ()  # the backends started when none are named
    project: Project | None = None

    @property
    def proxy_image(self) -> str:
        """The Toxiproxy image in effect."""
        return os.environ.get(self.proxy_image_var) or self.proxy_default_image

    def get(self, name: str) -> Service:
        """The backend called `name`, or an error that lists the known ones."""
        try:
            return self.services[name]
        except KeyError:
            known = ", ".join(self.services)
            raise UnknownService(f"unknown service {name!r}; known services: {known}") from None

    def reachable(self, name: str) -> None:
        """Fail unless `name` is a backend or a service under test (what proxies front)."""
        if name not in self.under_test:
            try:
                self.get(name)
            except UnknownService:
                known = ", ".join([*self.services, *self.under_test])
                raise UnknownService(f"unknown service {name!r}; known services: {known}") from None

    def service_under_test(self, name: str) -> UnderTest:
        """The service under test called `name`, or an error that lists the declared ones."""
        try:
            return self.under_test[name]
        except KeyError:
            known = ", ".join(self.under_test) or "none (declare them in [services])"
            raise UnknownService(
                f"unknown service under test {name!r}; declared: {known}"
            ) from None

    def speaks_http(self, name: str) -> bool:
        """Whether a backend or service under test speaks HTTP (its proxies pass through the
        HTTP fault layer)."""
        sut = self.under_test.get(name)
        if sut is not None:
            return sut.config.protocol == "http"
        return self.get(name).http

    def select(self, names: Sequence[str] | None) -> list[Service]:
        """The named services (the project's defaults when `names` is empty), validated."""
        return [self.get(name) for name in (names or self.defaults or self.services)]

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


def _parse_service(name: str, spec: dict) -> Service:
    match = _image_ref(name, spec)
    if spec.get("network_mode") == "host":
        raise ValueError(f"service {name}: no host networking (publish its client port)")
    ports = spec.get("ports") or []
    if len(ports) != 1:
        raise ValueError(f"service {name}: exactly one client-facing port must be published")
    container_port = int(str(ports[0]).rsplit(":", 1)[-1].split("/")[0])
    http = (spec.get("labels") or {}).get(PROTOCOL_LABEL) == "http"
    return Service(name, match["var"], match["default"], container_port=container_port, http=http)


def load(compose_file: Path | None = None) -> Topology:
    """The stack: the packaged compose file's services plus the current project's own."""
    return _load(compose_file, config.current_or_none())


def for_project(project: Project | None) -> Topology:
    """The stack of `project` (None: the packaged one alone)."""
    return _load(None, project)


@cache
def _load(compose_file: Path | None, project: Project | None) -> Topology:
    packaged = _parse(compose_file or _paths.compose_file())
    if project is None:
        return packaged
    services = dict(packaged.services)
    for name, backend in project.config.extra_backends.items():
        services[name] = Service(
            name, "", "", container_port=backend.port, own=True, http=backend.protocol == "http"
        )
    under_test = {
        name: UnderTest(name, spec, tuple(project.needs(name)))
        for name, spec in project.services.items()
    }
    return replace(
        packaged,
        services=services,
        under_test=under_test,
        defaults=tuple(project.backends),
        project=project,
    )


def _parse(path: Path) -> Topology:
    """Parse the packaged compose file (no Docker needed)."""
    document = yaml.safe_load(path.read_text())
    specs = dict(document["services"])
    specs.pop(HTTP_LAYER_SERVICE)
    proxy = _IMAGE_REF.match(str(specs.pop(PROXY_SERVICE)["image"]))
    if proxy is None:
        raise ValueError(f"service {PROXY_SERVICE}: image must be ${{HARNESS_..._IMAGE:-default}}")
    services = {name: _parse_service(name, spec) for name, spec in specs.items()}
    defaults = tuple(name for name in services if name not in config.OPTIONAL_BACKENDS)
    return Topology(path, services, proxy["var"], proxy["default"], defaults=defaults)
