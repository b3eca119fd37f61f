"""The package as an outside project gets it: a wheel built from this checkout, installed (not
editable) in a venv outside the tree, and processes that nothing ties to this checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness import _paths

CHECKOUT = _paths.PACKAGE_DIR.parent


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    """Run `command`; its stdout, or an assertion error with its status and output."""
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, (
        f"{' '.join(command)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


def outside_env() -> dict[str, str]:
    """This environment without what ties a process to this checkout or this pytest run (a
    PYTHONPATH on the checkout makes pip in the outside venv see the harness as installed)."""
    tied = ("PYTEST_", "HARNESS_", "PYTHONPATH", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if not k.startswith(tied)}


def source_copy(destination: Path) -> Path:
    """This checkout's files (tracked, and untracked ones git does not ignore) copied to
    `destination`: a build there writes its `build/` and egg-info beside the copy, so builds on
    several xdist workers at once never share (and delete) each other's build tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=CHECKOUT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source, copy = CHECKOUT / name, destination / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():  # harness/compose and harness/mocks link to the top level
            copy.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, copy)
    return destination


def built_wheel(root: Path, env: dict[str, str]) -> Path:
    """The wheel built from a private copy of this checkout, in `root/dist`."""
    source = source_copy(root / "source")
    dist = root / "dist"
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(source)],
        root, env, 300)  # fmt: skip
    (wheel,) = dist.glob("mediastack_harness-*.whl")
    return wheel


def installed_venv(root: Path, *requirements: str) -> Path:
    """A venv in `root` with the wheel built from this checkout; `requirements` may name the
    wheel's extras as `[extra]` and other packages as they are."""
    env = outside_env()
    wheel = built_wheel(root, env)
    extras = [r for r in requirements if r.startswith("[")]
    others = [r for r in requirements if not r.startswith("[")]
    run([sys.executable, "-m", "venv", str(root / "venv")], root, env, 120)
    pip = [str(root / "venv" / "bin" / "pip"), "install", "-q"]
    run([*pip, f"mediastack-harness{''.join(extras)} @ {wheel.as_uri()}", *others], root, env, 900)
    return root / "venv"
