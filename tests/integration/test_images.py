"""Images: present, unchanged ones never rebuilt, and no host pip or certificate config inside."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from harness import _images as images
from harness._waiting import wait_for

PYTHON_IMAGES = ["chromadb", "litellm", "mocks", "toxiproxy"]


def test_every_image_is_current_so_a_build_rebuilds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "images", "build", "--all"],
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


def _probe_hash(module: Path) -> str:
    """The content hash, by a new builder, of a Python-app recipe whose one app file is `module`."""
    builder = images.ImageBuilder(offline=True, report=lambda _: None)
    builder.recipes["probe"] = images.Recipe(
        "probe",
        "mediastack-harness-test/probe:none",
        parent="python",
        requirements=("probe",),
        app=((module, "probe.py"),),
    )
    return builder.content_hash("probe")


def _edit_keeping_size_and_mtime(module: Path, text: str) -> None:
    kept = module.stat()
    module.write_text(text)
    os.utime(module, ns=(kept.st_atime_ns, kept.st_mtime_ns))
    assert (module.stat().st_size, module.stat().st_mtime_ns) == (kept.st_size, kept.st_mtime_ns)


def test_an_edit_right_after_hashing_changes_the_hash_though_size_and_mtime_stay(
    tmp_path: Path,
) -> None:
    module = tmp_path / "probe.py"
    module.write_text("A = 1\n")
    first = _probe_hash(module)
    _edit_keeping_size_and_mtime(module, "A = 2\n")  # likely within the same timestamp tick
    assert _probe_hash(module) != first
    module.write_text("A = 1\n")
    assert _probe_hash(module) == first


def test_a_settled_recipe_is_not_read_again_until_a_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "probe.py"
    module.write_text("A = 1\n")
    margin = images.SETTLE_NS + 100_000_000
    wait_for(lambda: time.time_ns() - module.stat().st_ctime_ns > margin, 10, "the file to settle")
    first = _probe_hash(module)

    def no_reading(path: Path) -> bytes:
        raise AssertionError(f"{path} read again")

    with monkeypatch.context() as patched:
        patched.setattr(Path, "read_bytes", no_reading)
        assert _probe_hash(module) == first  # from the files' stat alone
    _edit_keeping_size_and_mtime(module, "A = 2\n")  # only the ctime tells
    assert _probe_hash(module) != first


def test_netfault_is_built_on_first_use_when_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    """No project's `harness images build` builds netfault: the first kernel fault does."""
    tag = f"mediastack-harness-test/netfault:{os.getpid()}"
    monkeypatch.setattr(images, "NETFAULT_TAG", tag)
    engine = docker.from_env()
    lines: list[str] = []
    try:
        assert images.ensure_lazily("netfault", report=lines.append) == tag
        assert lines[0].startswith("netfault: absent, building it now"), lines
        assert engine.images.get(tag).labels[images.RECIPE_LABEL] == "netfault"
        found = engine.containers.run(tag, ["sh", "-c", "command -v tc"], remove=True)
        assert found.strip().endswith(b"/tc")
        again: list[str] = []
        assert images.ensure_lazily("netfault", report=again.append) == tag
        assert again == []  # present: nothing built, nothing said
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True)
