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


def installed_venv(root: Path, *requirements: str) -> Path:
    """A venv in `root` with the wheel built from this checkout; `requirements` may name the
    wheel's extras as `[extra]` and other packages as they are."""
    env = outside_env()
    dist = root / "dist"
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(CHECKOUT)],
        root, env, 300)  # fmt: skip
    shutil.rmtree(CHECKOUT / "build", ignore_errors=True)
    (wheel,) = dist.glob("mediastack_harness-*.whl")
    extras = [r for r in requirements if r.startswith("[")]
    others = [r for r in requirements if not r.startswith("[")]
    run([sys.executable, "-m", "venv", str(root / "venv")], root, env, 120)
    pip = [str(root / "venv" / "bin" / "pip"), "install", "-q"]
    run([*pip, f"mediastack-harness{''.join(extras)} @ {wheel.as_uri()}", *others], root, env, 900)
    return root / "venv"
