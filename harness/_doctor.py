"""`harness doctor`: can the stack run on this engine? One line per check, the fix for each failure.

Each check is a `Check` (ok, warn or fail); the stack can run when none fails. The engine is the
one the harness itself talks to: `DOCKER_HOST`, else the current Docker context, else the default
socket. The probes run throwaway containers labeled with a `doctor-<random>` run (and this
process as their owner), removed even when a probe fails, so a reap finds any that a kill left.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import docker
from docker.errors import APIError, DockerException, ImageNotFound
from docker.models.containers import Container

from harness import _docker, _labels
from harness import _images as images
from harness._docker import Endpoint, endpoint, engine_kind
from harness._errors import HarnessError
from harness._stack import addresses

Status = Literal["ok", "warn", "fail"]
PROBE_TIMEOUT = 30.0
CAP_NET_ADMIN = 12
CAP_SYS_RESOURCE = 24
PUBLISH_FIX = "HARNESS_PUBLISH_HOST; docs/engines.md"
IMAGE_FIX = "`harness images build` (or `docker load` it from a machine that has it)"


@dataclass(frozen=True)
class Check:
    """One line of the report: `ok|warn|fail  <name>: <finding>[ — <fix>]`."""

    status: Status
    name: str
    finding: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<4}  {self.name}: {self.finding}"
        return f"{text} — {self.fix}" if self.fix else text


def _first_line(error: BaseException | str, limit: int = 240) -> str:
    """The last non-empty line of an error or an output (where the reason usually is)."""
    if isinstance(error, APIError) and error.explanation:
        error = str(error.explanation)  # the engine's own words, without the request's URL
    text = str(error).strip()
    if not text and isinstance(error, BaseException):
        text = type(error).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else "")[:limit]


def unreachable_fix(place: Endpoint, reason: str = "") -> str:
    """What to do when nothing answers at `place` (for `reason`)."""
    url = place.url
    if reason.startswith("permission denied"):
        return (
            "join the docker group (`sudo usermod -aG docker $USER`, then log in again), "
            "or use your own rootless engine's socket"
        )
    if "podman" in url:
        return (
            "start Podman's API socket: `systemctl --user enable --now podman.socket` (rootless; "
            "then DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock) or "
            "`sudo systemctl enable --now podman.socket` (DOCKER_HOST=unix:///run/podman/podman.sock)"
        )
    if place.source == "DOCKER_HOST":
        return (
            f"start the engine at {url}, or point DOCKER_HOST at one that runs "
            "(unset it for the default socket)"
        )
    if place.context:
        return f"start the engine of context {place.context}, or `docker context use default`"
    return (
        "start it (`sudo systemctl start docker`, or `sudo dockerd &`), "
        "or `harness engine ensure --install`"
    )


def unreachable_reason(error: BaseException) -> str:
    """Why the engine did not answer, in a few words."""
    text = str(error)
    for needle, reason in (
        ("FileNotFoundError", "no such socket"),
        ("No such file", "no such socket"),
        ("PermissionError", "permission denied on the socket"),
        ("Permission denied", "permission denied on the socket"),
        ("Connection refused", "connection refused"),
        ("ConnectionRefused", "connection refused"),
        ("timed out", "timed out"),
        ("Name or service not known", "unknown host name"),
        ("No route to host", "no route to host"),
    ):
        if needle in text:
            return reason
    return _first_line(error, 160)


def connect(place: Endpoint) -> tuple[docker.DockerClient | None, str, Check]:
    """A client whose engine answered, its kind, and the engine line (kind, version, where)."""
    try:
        client = place.client()
        info = client.info()
        version = client.version()
    except (DockerException, OSError) as error:
        reason = unreachable_reason(error)
        finding = f"no engine answers at {place.url} ({place.source}): {reason}"
        return None, "", Check("fail", "engine", finding, unreachable_fix(place, reason))
    kind = engine_kind(info, version)
    where = f"at {place.url} ({place.source})"
    finding = f"{kind} {version.get('Version', '?')} {where}"
    if place.remote:
        return (
            client,
            kind,
            Check(
                "warn",
                "engine",
                f"{finding}, a remote host: the stack's ports are published on that machine, "
                "and its containers cannot reach processes on this one",
                "publish on an address of it this machine reaches (HARNESS_PUBLISH_HOST; "
                "docs/engines.md)",
            ),
        )
    if kind == "Podman":
        return (
            client,
            kind,
            Check(
                "warn",
                "engine",
                f"{finding}: the harness is built for Docker; Podman's Docker API is partial",
                "use Docker Engine (`harness engine ensure --install`) if a check below fails",
            ),
        )
    return client, kind, Check("ok", "engine", finding)


def check_compose(run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run) -> Check:
    """`docker compose version`: the Compose v2 CLI plugin the stack is driven with."""
    fix = (
        "install the docker-compose-plugin (Docker's apt repo) or docker-compose-v2 (Ubuntu), "
        "or `harness engine ensure --install`"
    )
    try:
        done = run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return Check("fail", "compose", "the docker CLI is not installed", fix)
    except (OSError, subprocess.TimeoutExpired) as error:
        return Check("fail", "compose", f"`docker compose version` failed: {error}", fix)
    output = (done.stdout or done.stderr).strip()
    if done.returncode != 0:
        return Check("fail", "compose", f"`docker compose version`: {_first_line(output)}", fix)
    found = re.search(r"v?(\d+)\.(\d+)\.(\d+)\S*", output)
    if not found:
        return Check("warn", "compose", f"unrecognized version: {_first_line(output)}", fix)
    if int(found.group(1)) < 2:
        return Check("fail", "compose", f"Compose {found.group(0)}, the stack needs v2", fix)
    return Check("ok", "compose", f"Docker Compose {found.group(0).lstrip('v')} (CLI plugin)")


def _present(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
    except ImageNotFound:
        return False
    return True


@contextmanager
def _container(client: docker.DockerClient, run: str, **spec: Any) -> Iterator[Container]:
    """A started probe container, removed on the way out whatever happened."""
    labels = {_labels.RUN: run, _labels.OWNER: _labels.owner_token()}
    container = client.containers.create(labels=labels, detach=True, **spec)
    try:
        container.start()
        yield container
    finally:
        with suppress(DockerException):
            container.remove(force=True)


def _finish(container: Container, timeout: float = PROBE_TIMEOUT) -> tuple[int, str]:
    result = container.wait(timeout=timeout)
    output = container.logs(stdout=True, stderr=True).decode(errors="replace")
    return int(result.get("StatusCode", -1)), output


_KERNEL_SCRIPT = (
    "grep CapEff /proc/self/status; "
    "for q in 'netem delay 1ms' 'tbf rate 1mbit burst 32kbit latency 50ms'; do "
    "  set -- $q; "
    '  if out=$(tc qdisc add dev lo root $q 2>&1); then echo "$1 ok"; '
    "  tc qdisc del dev lo root 2>/dev/null; "
    '  else echo "$1 fail ${out:-exit status $?}" | head -n 1; fi; '
    "done"
)


def check_kernel(client: docker.DockerClient, run: str, image: str) -> list[Check]:
    """NET_ADMIN, netem and tbf, tried with tc on a throwaway container's own loopback."""
    if not _present(client, image):
        return [
            Check(
                "warn",
                name,
                f"not checked: the image {image} is not on this engine",
                "`harness images build netfault` (the first kernel fault builds it too), "
                "then run `harness doctor` again",
            )
            for name in ("NET_ADMIN", "netem", "tbf")
        ]
    try:
        with _container(
            client,
            run,
            image=image,
            command=["sh", "-c", _KERNEL_SCRIPT],
            cap_add=["NET_ADMIN"],
            network_mode="none",
        ) as container:
            status, output = _finish(container)
    except (DockerException, OSError) as error:
        reason = _first_line(error)
        return [
            Check(
                "warn",
                "NET_ADMIN",
                f"a container with NET_ADMIN could not run: {reason}",
                "kernel faults (loss, rate-limit, partition, delay) need it; TCP and HTTP "
                "faults do not",
            ),
            Check("warn", "netem", "not checked (no NET_ADMIN container)"),
            Check("warn", "tbf", "not checked (no NET_ADMIN container)"),
        ]
    return kernel_findings(status, output)


def kernel_findings(status: int, output: str) -> list[Check]:
    """The three kernel lines from the probe's output."""
    capability = re.search(r"CapEff:\s*([0-9a-fA-F]+)", output)
    if capability is None:
        return [
            Check("warn", "NET_ADMIN", f"the probe said nothing (exit {status})"),
            Check("warn", "netem", "not checked"),
            Check("warn", "tbf", "not checked"),
        ]
    if not int(capability.group(1), 16) >> CAP_NET_ADMIN & 1:
        fix = "the engine drops added capabilities: kernel faults need NET_ADMIN"
        return [
            Check("warn", "NET_ADMIN", "cap_add NET_ADMIN was not granted", fix),
            Check("warn", "netem", "not checked (no NET_ADMIN)"),
            Check("warn", "tbf", "not checked (no NET_ADMIN)"),
        ]
    checks = [Check("ok", "NET_ADMIN", "granted to containers (kernel faults can run)")]
    results = dict(re.findall(r"^(netem|tbf) (ok|fail.*)$", output, re.MULTILINE))
    what = {
        "netem": ("delay/jitter (`fault delay`) and netem loss", "iptables' statistic match"),
        "tbf": ("bandwidth limits (`fault rate-limit`)", ""),
    }
    for qdisc, (uses, fallback) in what.items():
        result = results.get(qdisc)
        if result == "ok":
            checks.append(Check("ok", qdisc, f"sch_{qdisc} works: {uses} available"))
            continue
        reason = (result or "fail no answer")[len("fail ") :].strip()
        finding = f"sch_{qdisc} unavailable ({reason}): {uses} cannot run"
        if fallback:
            finding += f"; loss falls back to {fallback}"
        fix = (
            f"load the module on the engine's host (`sudo modprobe sch_{qdisc}`) "
            "or use a kernel that has it"
        )
        checks.append(Check("warn", qdisc, finding, fix))
    return checks


def _listener(host: str = "127.0.0.1") -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen(1)
    listener.settimeout(0.5)
    return listener


def _hear(listener: socket.socket, container: Container) -> str:
    """What the container sends to `listener`; '' once it exits without connecting."""
    deadline = time.monotonic() + PROBE_TIMEOUT
    while time.monotonic() < deadline:
        try:
            peer, _ = listener.accept()
        except TimeoutError:
            container.reload()
            if container.status not in ("created", "running"):
                return ""
            continue
        with closing(peer):
            peer.settimeout(5)
            return peer.recv(64).decode(errors="replace").strip()
    return ""


def check_host_gateway(client: docker.DockerClient, run: str, image: str, kind: str) -> Check:
    """Whether a container on a bridge network reaches a process on this machine where the
    harness starts services under test as host processes (`{host}`), through the engine's host
    gateway (`host.docker.internal`): the stack's Toxiproxy and Prometheus must, to stand in
    front of such a service."""
    name = "host gateway"
    if _docker.remote_host() is not None:
        return Check(
            "warn",
            name,
            "a remote engine's containers cannot reach processes on this machine",
            "run services under test in containers (a compose service), not as `command`",
        )
    fix = {
        "rootless Docker": "start dockerd-rootless.sh with "
        "DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK=false (its containers then reach "
        "this machine's 127.0.0.1 at 10.0.2.2), or run services under test in containers",
    }.get(kind, "set HARNESS_PROCESS_HOST to an address of this machine its containers reach")
    host = os.environ.get("HARNESS_PROCESS_HOST") or addresses.process_host_on(client, kind)
    token = secrets.token_hex(8)
    with closing(_listener(host)) as listener:
        port = listener.getsockname()[1]
        script = f"exec 3<>/dev/tcp/host.docker.internal/{port} && echo {token} >&3"
        try:
            with _container(
                client,
                run,
                image=image,
                command=["bash", "-c", script],
                extra_hosts={"host.docker.internal": addresses.host_gateway_for(kind)},
            ) as container:
                heard = _hear(listener, container)
                if heard != token:
                    _, output = _finish(container)
                    said = _first_line(output) or "no connection"
                    return Check(
                        "warn",
                        name,
                        f"containers cannot reach {host} here ({said}): services under test "
                        "run as host processes would be out of the stack's reach",
                        fix,
                    )
        except (DockerException, OSError) as error:
            return Check("warn", name, f"the probe could not run: {_first_line(error)}", fix)
    return Check(
        "ok", name, f"containers reach host processes listening on {host} (host.docker.internal)"
    )


_PORT_SCRIPT = (
    "perl -MIO::Socket::INET -e '$| = 1; $s = IO::Socket::INET->new(LocalAddr => q(0.0.0.0), "
    "LocalPort => 8000, Listen => 1, ReuseAddr => 1) or die qq(listen: $!); "
    "print qq(listening\\n); "
    "while ($c = $s->accept) {{ print $c qq({token}\\n); close $c }}'"
)


def _listening(container: Container) -> addresses.Address | None:
    """Where the probe's published port is reached, once it listens; None when it exits or
    never does."""
    deadline = time.monotonic() + PROBE_TIMEOUT
    while time.monotonic() < deadline:
        container.reload()
        if container.status not in ("created", "running"):
            return None
        if b"listening" in container.logs(stdout=True, stderr=False):
            return addresses.published(container, 8000)
        time.sleep(0.1)
    return None


def check_published_ports(client: docker.DockerClient, run: str, image: str) -> Check:
    """Whether a port a container publishes where the stack publishes (HARNESS_PUBLISH_HOST)
    answers here, at the address the engine reports (backends' and proxies' ports)."""
    name = "published ports"
    token = secrets.token_hex(8)
    bind = addresses.publish_host()
    try:
        addresses.check_reachable()
    except HarnessError as error:
        return Check("fail", name, f"published on {bind}: out of this machine's reach", str(error))
    fix = f"publish on an address of the engine's machine this one reaches ({PUBLISH_FIX})"
    try:
        with _container(
            client,
            run,
            image=image,
            command=["sh", "-c", _PORT_SCRIPT.format(token=token)],
            ports={"8000/tcp": (bind, None)},
        ) as container:
            where = _listening(container)
            if where is None:
                said = _first_line(_finish(container, 5)[1]) if container.status == "exited" else ""
                return Check(
                    "warn",
                    name,
                    f"not checked: the probe did not listen{f' ({said})' if said else ''}",
                )
            heard = ""
            for _ in range(10):  # the engine's port forwarder may start a moment later
                heard = _read_token(where)
                if heard == token:
                    break
                time.sleep(0.3)
            if heard != token:
                return Check(
                    "fail",
                    name,
                    f"{where}, published by a container, does not answer here",
                    fix,
                )
    except (DockerException, OSError) as error:
        return Check(
            "fail",
            name,
            f"a container with a published port could not run: {_first_line(error)}",
            fix,
        )
    return Check("ok", name, f"ports published on {bind} answer here (at {where.host})")


def _read_token(where: addresses.Address) -> str:
    try:
        with socket.create_connection((where.host, where.port), timeout=2) as connection:
            return connection.recv(64).decode(errors="replace").strip()
    except OSError:
        return ""


def check_cleanup(client: docker.DockerClient) -> Check:
    """The cleanup strategy (labels and owner tokens, reaped by label), and dead runs' leftovers."""
    strategy = (
        f"by label: every container, network and volume carries {_labels.RUN}=<run> and its "
        "owner process; teardown removes a run by label, and the next run (or `harness down "
        "--all`) reaps runs whose owner is gone"
    )
    try:
        found = [
            *client.containers.list(all=True, sparse=True, filters={"label": _labels.RUN}),
            *client.networks.list(filters={"label": _labels.RUN}),
            *client.volumes.list(filters={"label": _labels.RUN}),
        ]
    except DockerException as error:
        return Check(
            "warn", "cleanup", f"{strategy}; listing labeled resources failed: {_first_line(error)}"
        )
    owners: dict[str, str] = {}
    for resource in found:
        labels = resource.attrs.get("Labels") or {}
        if _labels.RUN in labels:
            owners.setdefault(labels[_labels.RUN], labels.get(_labels.OWNER, _labels.KEPT))
    dead = sorted(run for run, owner in owners.items() if not _labels.owner_alive(owner))
    if dead:
        return Check(
            "warn",
            "cleanup",
            f"{strategy}; {len(dead)} dead run(s) left resources ({', '.join(dead[:3])}"
            f"{', …' if len(dead) > 3 else ''})",
            "`harness down --all` removes them",
        )
    return Check("ok", "cleanup", f"{strategy}; no dead run's leftovers")


def _probe_image(client: docker.DockerClient) -> str | None:
    for tag in (images.NETFAULT_TAG, images.BASE_TAG):
        if _present(client, tag):
            return tag
    return None


def _missing_capability(number: int) -> bool:
    """Whether this process's bounding set lacks a capability (so the engine's, if local)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    found = re.search(r"CapBnd:\s*([0-9a-fA-F]+)", status)
    return found is not None and not int(found.group(1), 16) >> number & 1


def check_containers(client: docker.DockerClient, run: str, image: str, kind: str) -> Check:
    """Whether the engine starts a container at all (every other probe needs one)."""
    try:
        with _container(client, run, image=image, command=["true"], network_mode="none") as probe:
            status, output = _finish(probe)
    except (DockerException, OSError) as error:
        reason = _first_line(error)
        finding = f"the engine cannot start a container: {reason}"
        if "rlimit" in reason and _missing_capability(CAP_SYS_RESOURCE):
            finding += " (root here lacks CAP_SYS_RESOURCE, so rlimits cannot be raised)"
        fix = (
            "give containers limits Podman may set and runc (containers.conf: "
            'default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"], runtime = "runc"; '
            "docs/engines.md), or use Docker Engine (`harness engine ensure --install`)"
            if kind == "Podman" and "rlimit" in reason
            else "use Docker Engine (`harness engine ensure --install`)"
            if kind == "Podman"
            else f"see the engine's log (`journalctl -u docker`), or `docker run --rm {image} true`"
        )
        return Check("fail", "containers", finding, fix)
    if status != 0:
        return Check("fail", "containers", f"`true` exited {status}: {_first_line(output)}")
    return Check("ok", "containers", f"a container of {image} starts and exits")


def diagnose(place: Endpoint | None = None) -> Iterator[Check]:
    """Every check, in order; only the engine line when no engine answers."""
    place = place or endpoint()
    client, kind, engine = connect(place)
    yield engine
    if client is None:
        return
    with closing(client):
        yield check_compose()
        run = f"doctor-{secrets.token_hex(4)}"
        probes = ("containers", "NET_ADMIN", "netem", "tbf", "host gateway", "published ports")
        image = _probe_image(client)
        if image is None:
            for name in probes:
                yield Check(
                    "warn",
                    name,
                    f"not checked: neither {images.NETFAULT_TAG} nor {images.BASE_TAG} is on "
                    "this engine",
                    f"{IMAGE_FIX}, then run `harness doctor` again",
                )
        else:
            started = check_containers(client, run, image, kind)
            yield started
            if started.status == "fail":
                for name in probes[1:]:
                    yield Check("warn", name, "not checked (no container starts)")
            else:
                yield from check_kernel(client, run, images.NETFAULT_TAG)
                yield check_host_gateway(client, run, image, kind)
                yield check_published_ports(client, run, image)
        yield check_cleanup(client)


def main(echo: Callable[[str], None] = print) -> int:
    """Print one line per check; 0 when the stack can run here, 1 otherwise."""
    failed = False
    try:
        for check in diagnose():
            echo(check.line())
            failed = failed or check.status == "fail"
    except KeyboardInterrupt:
        echo("fail  doctor: interrupted")
        return 1
    except Exception as error:  # never a traceback: one line naming what broke
        echo(f"fail  doctor: {type(error).__name__}: {_first_line(error)}")
        return 1
    return 1 if failed else 0
