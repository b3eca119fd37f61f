"""`harness doctor`'s pure parts: the engine's kind, remote endpoints, the kernel probe's output."""

from __future__ import annotations

import subprocess

import pytest

from harness import _docker, _doctor


@pytest.mark.parametrize(
    ("info", "version", "kind"),
    [
        ({"SecurityOptions": ["name=seccomp,profile=default"]}, {}, "rootful Docker"),
        ({"SecurityOptions": ["name=seccomp", "name=rootless"]}, {}, "rootless Docker"),
        ({"OperatingSystem": "Docker Desktop"}, {}, "Docker Desktop"),
        ({}, {"Components": [{"Name": "Podman Engine", "Version": "4.3.1"}]}, "Podman"),
        ({}, {"Platform": {"Name": "linux/amd64/debian-12 (Podman)"}}, "Podman"),
    ],
)
def test_engine_kind(info: dict, version: dict, kind: str) -> None:
    assert _docker.engine_kind(info, version) == kind


@pytest.mark.parametrize(
    ("url", "remote"),
    [
        ("unix:///var/run/docker.sock", False),
        ("tcp://127.0.0.1:2375", False),
        ("tcp://localhost:2375", False),
        ("tcp://[::1]:2375", False),
        ("tcp://10.200.0.2:2375", True),
        ("ssh://builder@build.example", True),
    ],
)
def test_remote_endpoints(url: str, remote: bool) -> None:
    assert _docker.is_remote(url) is remote


def test_endpoint_prefers_docker_host() -> None:
    found = _docker.endpoint({"DOCKER_HOST": "tcp://10.200.0.2:2375", "DOCKER_CONTEXT": "x"})
    assert (found.url, found.source, found.remote) == ("tcp://10.200.0.2:2375", "DOCKER_HOST", True)


def test_kernel_findings_netem_missing_tbf_present() -> None:
    output = (
        "CapEff:\t00000000a80435fb\nnetem fail Error: Specified qdisc kind is unknown.\ntbf ok\n"
    )
    checks = {check.name: check for check in _doctor.kernel_findings(0, output)}
    assert checks["NET_ADMIN"].status == "ok"
    assert checks["netem"].status == "warn" and "qdisc kind is unknown" in checks["netem"].finding
    assert "modprobe sch_netem" in checks["netem"].fix
    assert checks["tbf"].status == "ok"


def test_kernel_findings_without_net_admin() -> None:
    checks = _doctor.kernel_findings(0, "CapEff:\t00000000a80425fb\n")
    assert [(c.name, c.status) for c in checks] == [
        ("NET_ADMIN", "warn"),
        ("netem", "warn"),
        ("tbf", "warn"),
    ]


def test_check_line_format() -> None:
    line = _doctor.Check("fail", "compose", "missing", "install it").line()
    assert line == "fail  compose: missing — install it"
    assert _doctor.Check("ok", "engine", "fine").line() == "ok    engine: fine"


def test_compose_missing_names_the_fix() -> None:
    def absent(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError("docker")

    check = _doctor.check_compose(absent)
    assert check.status == "fail" and "docker-compose-plugin" in check.fix


def test_compose_v1_is_a_failure() -> None:
    def old(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(
            [], 0, "docker-compose version 1.29.2, build 5becea4c", ""
        )

    assert _doctor.check_compose(old).status == "fail"
