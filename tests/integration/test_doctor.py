"""`harness doctor` against each engine this machine can run: rootful and rootless Docker, a
remote dockerd (in a network namespace), Podman's API socket; and against engines that are not
there. The engines fixture brings them up itself and stops what it started; an engine that
cannot come up fails its test with the reason (never a skip)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import docker
import pytest

from harness import _labels
from tests.integration import _engines

pytestmark = [pytest.mark.xdist_group("engines"), pytest.mark.timeout(900)]


def _doctor(
    docker_host: str, publish: str | None = None
) -> tuple[int, dict[str, tuple[str, str]], str]:
    """Exit status, {check: (status, rest of the line)} and the whole output."""
    own = ("DOCKER_HOST", "DOCKER_CONTEXT", "HARNESS_PUBLISH_HOST", "HARNESS_PROCESS_HOST")
    env = {k: v for k, v in os.environ.items() if k not in own}
    env["DOCKER_HOST"] = docker_host
    if publish:
        env["HARNESS_PUBLISH_HOST"] = publish
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "doctor"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    lines: dict[str, tuple[str, str]] = {}
    for line in done.stdout.splitlines():
        status, _, rest = line.partition("  ")
        name, _, finding = rest.strip().partition(": ")
        assert status.strip() in ("ok", "warn", "fail"), line
        lines[name] = (status.strip(), finding)
    return done.returncode, lines, output


def _engine(engines: dict[str, _engines.Engine], name: str) -> _engines.Engine:
    engine = engines[name]
    if engine.error:
        pytest.fail(f"the {name} engine could not be brought up: {engine.error}")
    return engine


def _no_probe_left(docker_host: str) -> None:
    client = docker.DockerClient(base_url=docker_host, timeout=30)
    try:
        left = [
            c.name
            for c in client.containers.list(all=True, filters={"label": _labels.RUN})
            if c.labels.get(_labels.RUN, "").startswith("doctor-")
        ]
    finally:
        client.close()
    assert left == [], f"doctor left probe containers: {left}"


def test_rootful_docker_can_run_the_stack(engines: dict[str, _engines.Engine]) -> None:
    engine = _engine(engines, "rootful")
    status, checks, output = _doctor(engine.docker_host)
    assert checks["engine"][0] == "ok" and checks["engine"][1].startswith("rootful Docker"), output
    assert checks["compose"][0] == "ok", output
    assert checks["containers"][0] == "ok", output
    assert checks["NET_ADMIN"] == ("ok", "granted to containers (kernel faults can run)"), output
    assert checks["tbf"][0] == "ok", output
    # netem depends on the kernel (this VM has no sch_netem): either way, a clear line
    assert checks["netem"][0] == "ok" or "sch_netem unavailable" in checks["netem"][1], output
    assert checks["host gateway"][0] == "ok", output  # at the default bridge's gateway
    assert checks["published ports"][0] == "ok", output
    assert "by label" in checks["cleanup"][1], output
    assert status == 0, output
    _no_probe_left(engine.docker_host)


def test_rootless_docker_is_detected_and_can_run_the_stack(
    engines: dict[str, _engines.Engine],
) -> None:
    engine = _engine(engines, "rootless")
    status, checks, output = _doctor(engine.docker_host)
    assert checks["engine"][0] == "ok" and checks["engine"][1].startswith("rootless Docker"), output
    assert checks["containers"][0] == "ok", output
    assert checks["NET_ADMIN"][0] == "ok", output  # granted inside the user namespace
    assert checks["tbf"][0] == "ok", output
    # its containers reach this machine's loopback at 10.0.2.2 (its host loopback is open)
    assert checks["host gateway"][0] == "ok", output
    assert checks["published ports"][0] == "ok", output  # RootlessKit forwards them
    assert status == 0, output
    _no_probe_left(engine.docker_host)


def test_a_remote_engine_is_detected_and_its_loopback_is_out_of_reach(
    engines: dict[str, _engines.Engine],
) -> None:
    engine = _engine(engines, "remote")
    status, checks, output = _doctor(engine.docker_host)
    assert checks["engine"][0] == "warn", output
    assert "a remote host" in checks["engine"][1], output
    assert engine.docker_host in checks["engine"][1], output
    assert checks["containers"][0] == "ok", output
    assert checks["NET_ADMIN"][0] == "ok", output
    assert checks["host gateway"][0] == "warn", output  # processes here are out of its reach
    assert checks["published ports"][0] == "fail", output
    assert "set HARNESS_PUBLISH_HOST" in checks["published ports"][1], output
    assert status == 1, output
    _no_probe_left(engine.docker_host)


def test_a_remote_engine_publishing_on_its_private_address_can_run_the_stack(
    engines: dict[str, _engines.Engine],
) -> None:
    engine = _engine(engines, "remote")
    status, checks, output = _doctor(engine.docker_host, publish=_engines.REMOTE_IP)
    assert checks["published ports"] == (
        "ok",
        f"ports published on {_engines.REMOTE_IP} answer here (at {_engines.REMOTE_IP})",
    ), output
    assert status == 0, output
    _no_probe_left(engine.docker_host)


def test_podman_is_detected_and_what_stops_it_is_one_line(
    engines: dict[str, _engines.Engine],
) -> None:
    engine = _engine(engines, "podman")
    status, checks, output = _doctor(engine.docker_host)
    assert checks["engine"][0] == "warn", output
    assert checks["engine"][1].startswith("Podman "), output
    if engine.note:  # its containers cannot start here: doctor says why, on one line
        assert checks["containers"][0] == "fail", output
        assert checks["containers"][1].startswith("the engine cannot start a container"), output
        if "rlimit" in engine.note:  # this VM: the runtime cannot raise the containers' rlimits
            assert "rlimit" in checks["containers"][1], output
        assert "use Docker Engine" in checks["containers"][1], output
        fails = [line for line in output.splitlines() if line.startswith("fail")]
        assert len(fails) == 1, output
        assert all(checks[name][1].startswith("not checked") for name in ("NET_ADMIN", "tbf"))
        assert status == 1, output
    else:
        assert checks["containers"][0] == "ok", output
    _no_probe_left(engine.docker_host)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("docker_host", "says"),
    [
        ("tcp://127.0.0.1:{port}", ["connection refused", "point DOCKER_HOST at one that runs"]),
        ("unix:///nonexistent/podman.sock", ["no such socket", "podman.socket"]),
    ],
    ids=["closed-port", "podman-without-its-socket"],
)
def test_an_engine_that_does_not_answer_is_one_line_naming_the_fix(
    docker_host: str, says: list[str]
) -> None:
    status, _, output = _doctor(docker_host.format(port=_closed_port()))
    assert status == 1, output
    assert len(output.strip().splitlines()) == 1, output
    assert output.startswith("fail  engine: no engine answers at "), output
    assert "(DOCKER_HOST)" in output and " — " in output, output
    for text in says:
        assert text in output, output
