"""Make sure a Docker engine and Compose v2 answer; install them on Debian/Ubuntu as root."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness._errors import ComposeMissing, DockerUnavailable

PLUGIN_DIR = Path("/usr/local/lib/docker/cli-plugins")
# Debian bookworm has no Compose v2 package; trixie's docker-compose (2.26) carries the plugin.
COMPOSE_SUITE = os.environ.get("HARNESS_COMPOSE_SUITE", "trixie")
DEBIAN_MIRROR = os.environ.get("HARNESS_DEBIAN_MIRROR", "http://deb.debian.org/debian")

Report = Callable[[str], None]


def _ok(*command: str) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _can_install() -> bool:
    return (
        os.geteuid() == 0
        and Path("/etc/debian_version").exists()
        and shutil.which("apt-get") is not None
    )


def _apt(*args: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "-qq", *args], check=True, env=env, stdout=subprocess.DEVNULL)


def _start_daemon(report: Report) -> None:
    if Path("/run/systemd/system").exists() and _ok("systemctl", "start", "docker"):
        report("started docker with systemctl")
    else:
        log = open("/var/log/harness-dockerd.log", "ab")  # noqa: SIM115 - owned by the daemon
        subprocess.Popen(["dockerd"], stdout=log, stderr=log, start_new_session=True)
        report("started dockerd in the background (log: /var/log/harness-dockerd.log)")
    deadline = time.monotonic() + 60
    while not _ok("docker", "info"):
        if time.monotonic() > deadline:
            raise DockerUnavailable(
                "dockerd did not answer within 60 s: see /var/log/harness-dockerd.log"
            )
        time.sleep(0.5)


def _install_compose_plugin(report: Report) -> None:
    if _ok("apt-cache", "show", "docker-compose-v2"):  # Ubuntu
        _apt("install", "-y", "docker-compose-v2")
        return
    source = Path("/etc/apt/sources.list.d/harness-compose.list")
    source.write_text(f"deb {DEBIAN_MIRROR} {COMPOSE_SUITE} main\n")
    try:
        _apt("update")
        with tempfile.TemporaryDirectory() as work:
            subprocess.run(
                ["apt-get", "-qq", "download", "docker-compose"],
                cwd=work,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            package = next(Path(work).glob("docker-compose_*.deb"))
            subprocess.run(["dpkg", "-x", str(package), f"{work}/x"], check=True)
            PLUGIN_DIR.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f"{work}/x/usr/libexec/docker/cli-plugins/docker-compose", PLUGIN_DIR)
        report(f"installed the Compose v2 plugin from Debian {COMPOSE_SUITE}")
    finally:
        source.unlink(missing_ok=True)
        _apt("update")


def ensure(install: bool, report: Report = print) -> None:
    """Check (and with `install`, provide) the engine, Compose v2, debootstrap, iptables and
    chromium (the report's browser test)."""
    tools = ("dockerd", "debootstrap", "iptables", "chromium")
    missing_tools = [tool for tool in tools if shutil.which(tool) is None]
    if missing_tools:
        if not (install and _can_install()):
            raise DockerUnavailable(
                f"missing {', '.join(missing_tools)}: install Docker Engine "
                "(https://docs.docker.com/engine/install/), debootstrap and chromium, "
                "or run `make setup` as root on Debian/Ubuntu"
            )
        report(f"installing {', '.join(missing_tools)} from Debian's packages")
        _apt("update")
        _apt(
            "install",
            "-y",
            "--no-install-recommends",
            "docker.io",
            "debootstrap",
            "iptables",
            "tar",
            "chromium",
        )
    if not _ok("docker", "info"):
        if not (install and os.geteuid() == 0):
            raise DockerUnavailable(
                "the Docker engine does not answer: start it (`sudo systemctl start docker`)"
            )
        _start_daemon(report)
    if not _ok("docker", "compose", "version"):
        if not (install and _can_install()):
            raise ComposeMissing(
                "Docker Compose v2 is missing: install docker-compose-plugin (Docker's apt repo) "
                "or docker-compose-v2 (Ubuntu)"
            )
        _install_compose_plugin(report)
        if not _ok("docker", "compose", "version"):
            raise ComposeMissing(
                "the Compose v2 plugin was installed but `docker compose version` fails"
            )
    report("docker engine and compose v2: ok")
