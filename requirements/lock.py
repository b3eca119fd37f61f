"""`make lock`: every pinned environment, re-resolved with uv from the declared ranges.

- requirements/dev.lock: this checkout's development and test environment (`.[test]`) and the
  studio's (examples/studio), for CPython 3.11 on Linux x86_64. `make setup` and
  `make studio-venv` install with it as pip constraints.
- compose/images/<image>/constraints.txt: the wheelhouse of each of the stack's Python images
  (harness/_images.py), for the images' Python, Debian bookworm's 3.11.2 (glibc 2.36). They ship
  in the package: an adopter building the images later gets these versions.

Linux x86_64 only: bpy (the blender extra and image) has no Linux aarch64 wheel to resolve for.
Run from the repository root: `python requirements/lock.py [--uv UV]`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_LOCK = ROOT / "requirements" / "dev.lock"
IMAGES = ROOT / "compose" / "images"
STUDIO_REQUIREMENTS = "examples/studio/requirements.txt"
PLATFORM = "x86_64-manylinux_2_36"  # Debian bookworm's glibc, as the images' and the CI's
DEV_PYTHON = "3.11"
IMAGE_PYTHON = "3.11.2"  # Debian bookworm's python3, which every Python image runs
# images._MARKER_TRAP: added to every image's wheelhouse, so pinned in every image's lock
MARKER_TRAP = ["async-timeout>=4.0.3"]
HEADER = "make lock"


def image_requirements() -> dict[str, list[str]]:
    """Each Python image's requirements, as harness/_images.py builds its wheelhouse: its
    requirements.txt, or the mocks extra for the mocks image."""
    found = {}
    for path in sorted(IMAGES.glob("*/requirements.txt")):
        lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
        found[path.parent.name] = [line for line in lines if line]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found["mocks"] = list(project["optional-dependencies"]["mocks"])
    return dict(sorted(found.items()))


def compile_(uv: str, python: str, sources: list[str], output: Path, stdin: str = "") -> None:
    command = [
        uv, "pip", "compile", "--quiet", "--python-version", python, "--python-platform", PLATFORM,
        "--custom-compile-command", HEADER, "--output-file", str(output.relative_to(ROOT)),
        *sources,
    ]  # fmt: skip
    subprocess.run(command, cwd=ROOT, input=stdin, text=True, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uv", default="uv", help="the uv executable")
    uv = parser.parse_args().uv
    compile_(uv, DEV_PYTHON, ["pyproject.toml", STUDIO_REQUIREMENTS, "--extra", "test"], DEV_LOCK)
    print(f"locked {DEV_LOCK.relative_to(ROOT)}", file=sys.stderr)
    for image, requirements in image_requirements().items():
        output = IMAGES / image / "constraints.txt"
        output.parent.mkdir(exist_ok=True)
        compile_(uv, IMAGE_PYTHON, ["-"], output, "\n".join([*requirements, *MARKER_TRAP]) + "\n")
        print(f"locked {output.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
