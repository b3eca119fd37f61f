"""The Docker engine connection, with one clear error when it does not answer."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlparse

import docker
from docker.errors import DockerException

from harness._errors import ComposeMissing, DockerUnavailable

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
START_HINT = (
    "start it (`sudo systemctl start docker`, or `sudo dockerd &`) or install it with `make setup`"
)


@cache
def client() -> docker.DockerClient:
    """A docker SDK client whose engine answered a ping."""
    try:
        engine = endpoint().client(timeout=120)
        engine.ping()
    except DockerException as error:
        reason = str(error).splitlines()[0][:160]
        raise DockerUnavailable(f"Docker engine unreachable ({reason}): {START_HINT}") from None
    return engine


def compose_cli() -> list[str]:
    """The Compose v2 command line, checked once."""
    if shutil.which("docker") is None:
        raise DockerUnavailable(f"the docker CLI is not installed: {START_HINT}")
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        raise ComposeMissing(
            "Docker Compose v2 is missing (`docker compose version` failed): install the "
            "docker-compose-plugin (Docker's repo) or docker-compose-v2 (Ubuntu), "
            "or run `make setup`"
        )
    return ["docker", "compose"]


@dataclass(frozen=True)
class Endpoint:
    """Where the engine is, and what said so (`DOCKER_HOST`, a context, the default)."""

    url: str
    source: str
    context: str | None = None
    tls: Any = None  # a context's docker.tls.TLSConfig

    @property
    def remote(self) -> bool:
        return is_remote(self.url)

    def client(self, timeout: int = 20) -> docker.DockerClient:
        ssh = self.url.startswith("ssh://")
        if self.source == "DOCKER_HOST":  # with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH
            return docker.from_env(timeout=timeout, use_ssh_client=ssh)
        return docker.DockerClient(
            base_url=self.url, tls=self.tls or False, timeout=timeout, use_ssh_client=ssh
        )


def is_remote(url: str) -> bool:
    """Whether `url` reaches another machine: tcp:// or ssh:// to a host that is not loopback."""
    parsed = urlparse(url)
    if parsed.scheme not in ("tcp", "ssh", "http", "https"):
        return False
    host = parsed.hostname or ""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a name: another machine as far as published ports are concerned


def endpoint(environ: dict[str, str] | None = None) -> Endpoint:
    """The engine the docker CLI and SDK would use: DOCKER_HOST, the context, the default."""
    environ = dict(os.environ if environ is None else environ)
    if environ.get("DOCKER_HOST"):
        return Endpoint(environ["DOCKER_HOST"], "DOCKER_HOST")
    try:
        from docker.context import ContextAPI

        name = environ.get("DOCKER_CONTEXT") or None
        context = ContextAPI.get_context(name)
    except DockerException:
        context = None
    if context is not None and context.Name != "default" and context.Host:
        return Endpoint(
            context.Host, f"Docker context {context.Name}", context.Name, context.TLSConfig
        )
    return Endpoint(DEFAULT_SOCKET, "default socket")


def engine_kind(info: dict[str, Any], version: dict[str, Any]) -> str:
    """Podman, Docker Desktop, rootless Docker or rootful Docker, from `info` and `version`."""
    names = [str(c.get("Name", "")) for c in version.get("Components") or []]
    platform = str((version.get("Platform") or {}).get("Name", ""))
    if any("podman" in name.lower() for name in [*names, platform]):
        return "Podman"
    if info.get("OperatingSystem") == "Docker Desktop":
        return "Docker Desktop"
    if any("name=rootless" in option for option in info.get("SecurityOptions") or []):
        return "rootless Docker"
    return "rootful Docker"


@cache
def remote_host() -> str | None:
    """The machine a remote engine runs on (tcp:// or ssh:// to a host that is not loopback);
    None for an engine on this machine."""
    place = endpoint()
    return urlparse(place.url).hostname if place.remote else None
