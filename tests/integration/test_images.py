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
    for key in ("redis", "chromadb", "litellm", "toxiproxy", "netfault", "prometheus", "mocks"):
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


def test_an_adopters_python_service_builds_offline_like_the_stacks_own(tmp_path) -> None:
    package = tmp_path / "hello"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(
        "import httpx\nprint('hello from', httpx.__name__, httpx.__version__)\n"
    )
    (tmp_path / "requirements.txt").write_text("httpx>=0.27  # the app's one dependency\n")
    tag = f"mediastack-harness-test/hello:{tmp_path.name[-12:].lower()}"
    build = [sys.executable, "-m", "harness.cli", "images", "build-app", tag]
    build += ["--source", str(package), "-r", str(tmp_path / "requirements.txt")]
    engine = docker.from_env()
    try:
        first = subprocess.run(build, capture_output=True, text=True, timeout=600)
        assert first.returncode == 0, first.stdout + first.stderr
        output = engine.containers.run(tag, ["python", "-m", "hello"], remove=True)
        assert output.decode().startswith("hello from httpx ")
        assert engine.images.get(tag).labels[images.RECIPE_LABEL].startswith("app-")
        inside = ["sh", "-c", "test ! -e /wheels && ls /app/hello"]  # no wheelhouse left in it
        assert "__main__.py" in engine.containers.run(tag, inside, remove=True).decode()
        again = subprocess.run(build, capture_output=True, text=True, timeout=600)
        assert again.returncode == 0 and "up to date" in again.stdout, again.stdout
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True)


def test_build_app_refuses_a_missing_source_in_one_line(tmp_path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "images",
            "build-app",
            "x:local",
            "--source",
            str(tmp_path / "nope"),
            "-r",
            "httpx",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: no such source: {tmp_path / 'nope'}"
