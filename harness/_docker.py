"""The Docker engine connection, with one clear error when it does not answer."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache

import docker
from docker.errors import DockerException

from harness._errors import ComposeMissing, DockerUnavailable

START_HINT = (
    "start it (`sudo systemctl start docker`, or `sudo dockerd &`) or install it with `make setup`"
)


@cache
def client() -> docker.DockerClient:
    """A docker SDK client whose engine answered a ping."""
    try:
        engine = docker.from_env(timeout=120)
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
