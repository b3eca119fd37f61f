"""`make lock`: every pinned environment, re-resolved with uv from the declared ranges.

- requirements/dev.lock: this checkout's development and test environment (`.[test]`) and the
  studio's (examples/studio), for CPython 3.11 on Linux x86_64. `make setup` and
  `make studio-venv` install with it as pip constraints.
- requirements/floors.lock: the same Python and platform at the floors: each declared range of
  `.[all]` and of the test tools the unit tests use at its lowest version (uv's
  `--resolution lowest-direct`; what they pull in at its newest). `make test-floors` runs the unit
  tests in it, so that each floor is one the code works with.
- compose/images/<image>/constraints.txt: the wheelhouse of each of the stack's Python images
  (harness/_images.py), for the images' Python, Debian bookworm's 3.11.2 (glibc 2.36). They ship
  in the package: an adopter building the images later gets these versions.

Linux x86_64 only: bpy (the blender extra and image) has no Linux aarch64 wheel to resolve for.
Run from the repository root: `python requirements/lock.py [--uv UV]`.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_LOCK = ROOT / "requirements" / "dev.lock"
FLOORS_LOCK = ROOT / "requirements" / "floors.lock"
# what of the test extra the unit tests at the floors go without: the linters and the build tools
# (development only), and bpy (the blender extra is not in `all`; its tests run real Blender)
DEV_ONLY = {"ruff", "mypy", "types-pyyaml", "types-requests", "build", "twine"}
# Not ours to test: matplotlib before 3.10.7 calls pyparsing by its old names, which pyparsing 3.3
# deprecates with a warning in every process that draws a plot. The floors environment has the
# pyparsing that the floor matplotlib knew.
FLOORS_PEERS = ["pyparsing>=3.2,<3.3"]
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


def _name(requirement: str) -> str:
    """A requirement's distribution name, normalized (PEP 503); no dependency: runs before any."""
    match = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group()).lower()


def _at_floor(line: str) -> str:
    """`name[extras]>=X,<Y; marker` as `name[extras]==X; marker` (unchanged without a floor)."""
    requirement, _, marker = line.split("#")[0].partition(";")
    named = re.match(r"\s*[A-Za-z0-9._-]+(\[[^\]]*\])?", requirement)
    floor = re.search(r"(>=|==)\s*([^,\s]+)", requirement)
    assert named, line
    if floor is None:
        return line.split("#")[0].strip()
    return f"{named.group().strip()}=={floor.group(2)}" + (f"; {marker.strip()}" if marker else "")


def floors_requirements() -> list[str]:
    """Each direct requirement of `.[all]`, and the test extra's tools that the unit tests use,
    pinned at its floor: lowest-direct alone prefers the newest of what they pull in, and may
    leave a direct requirement above its floor for it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras, self_name = project["optional-dependencies"], _name(project["name"])
    lines, pending, seen = list(project["dependencies"]), ["all"], set()
    while pending:
        extra = pending.pop()
        seen.add(extra)
        for line in extras[extra]:
            if _name(line) == self_name:
                named = line[line.index("[") + 1 : line.index("]")]
                pending += [e.strip() for e in named.split(",") if e.strip() not in seen]
            else:
                lines.append(line)
    lines += [line for line in extras["test"] if _name(line) not in DEV_ONLY | {self_name}]
    return [*sorted({_at_floor(line) for line in lines}), *FLOORS_PEERS]


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
    # --upgrade: what they pull in at its newest today, not as the last floors lock had it
    floors = ["pyproject.toml", "--extra", "all", "-", "--resolution", "lowest-direct", "--upgrade"]
    compile_(uv, DEV_PYTHON, floors, FLOORS_LOCK, "\n".join(floors_requirements()) + "\n")
    print(f"locked {FLOORS_LOCK.relative_to(ROOT)}", file=sys.stderr)
    for image, requirements in image_requirements().items():
        output = IMAGES / image / "constraints.txt"
        output.parent.mkdir(exist_ok=True)
        compile_(uv, IMAGE_PYTHON, ["-"], output, "\n".join([*requirements, *MARKER_TRAP]) + "\n")
        print(f"locked {output.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
