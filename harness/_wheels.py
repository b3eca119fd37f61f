"""A wheelhouse for the images' Python, made on the host (pip cannot reach an index inside a
build).

Every Python image runs Debian bookworm's python3 (3.11). On a 3.11 host, `pip wheel` resolves
and builds the wheelhouse. On any other (the 3.12 CI jobs, an adopter's laptop) its compiled
wheels (numpy's cp312) would not install in the image, and its markers would be the host's:
there the requirements are resolved for the images' Python instead, as binary wheels from the
index (`pip download --python-version 3.11 --only-binary=:all:`).
"""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from harness._errors import HarnessError

IMAGE_PYTHON = (3, 11)  # Debian bookworm's python3, which every Python image runs
GLIBC = (2, 36)  # bookworm's: manylinux wheels up to this glibc run there
_PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


def build(
    requirements: Sequence[str],
    directory: Path,
    python: tuple[int, int] = IMAGE_PYTHON,
    constraints: Path | None = None,
) -> Path:
    """Wheels for `requirements` and their dependencies in `directory`, all installable with
    `--no-index` on CPython `python`; at the versions pinned in `constraints` (a pip constraints
    file, as the images' locks), if given."""
    directory.mkdir(parents=True, exist_ok=True)
    if sys.version_info[:2] == python:
        command = [*_PIP, "wheel", "--quiet", "--wheel-dir", str(directory)]
        subprocess.run([*command, *_constrained(constraints), *requirements], check=True)
    else:
        download(requirements, directory, python, constraints)
    return directory


def _constrained(constraints: Path | None) -> list[str]:
    return [] if constraints is None else ["--constraint", str(constraints)]


def download(
    requirements: Sequence[str],
    directory: Path,
    python: tuple[int, int],
    constraints: Path | None = None,
) -> None:
    """Resolve `requirements` (within `constraints`) for CPython `python` on Linux and download
    their wheels (a release without one is one clear error, naming it)."""
    version = f"{python[0]}{python[1]}"
    arch = platform.machine()
    glibc = [f"manylinux_{GLIBC[0]}_{minor}_{arch}" for minor in range(GLIBC[1], 16, -1)]
    platforms = [*glibc, f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}"]
    command = [
        *_PIP,
        "download",
        "--quiet",
        "--only-binary=:all:",
        "--dest",
        str(directory),
        "--python-version",
        f"{python[0]}.{python[1]}",
        "--implementation",
        "cp",
        *(arg for abi in (f"cp{version}", "abi3", "none") for arg in ("--abi", abi)),
        *(arg for p in [*platforms, "any"] for arg in ("--platform", p)),
        *_constrained(constraints),
        *requirements,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
        why = errors[-1].removeprefix("ERROR: ") if errors else done.stderr.strip()[-300:]
        host = ".".join(map(str, sys.version_info[:2]))
        target = f"{python[0]}.{python[1]}"
        raise HarnessError(
            f"no wheels for the images' Python {target} from this Python {host} ({why}): "
            f"build the images with Python {target}"
        )
