"""Images: present, unchanged ones never rebuilt, and no host pip or certificate config inside."""

from __future__ import annotations

import subprocess
import sys

import docker

from harness import images

PYTHON_IMAGES = ["chromadb", "litellm", "mocks", "toxiproxy"]


def test_every_image_is_current_so_a_build_rebuilds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "images", "build"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    for key in ("redis", "chromadb", "litellm", "toxiproxy", "netfault", "mocks"):
        assert any(
            line.startswith(f"{key}: up to date") or line.startswith(f"{key}: using upstream")
            for line in result.stdout.splitlines()
        ), result.stdout
    assert "building" not in result.stdout


def test_no_host_pip_configuration_or_wheels_in_images_built_here() -> None:
    engine = docker.from_env()
    built_here = [
        images.recipes()[key].tag
        for key in PYTHON_IMAGES
        if images.HASH_LABEL in (engine.images.get(images.recipes()[key].tag).labels or {})
    ]
    assert images.recipes()["mocks"].tag in built_here  # the mocks are always built here
    script = (
        "ls /etc/pip.conf /etc/xdg/pip /root/.config/pip /root/.pip /wheels /opt/wheels"
        " 2>/dev/null; pip config list"
    )
    for tag in built_here:
        output = engine.containers.run(
            tag, ["sh", "-c", script], entrypoint=[], remove=True, network_mode="none"
        ).decode()
        assert output.strip() == "", (tag, output)
