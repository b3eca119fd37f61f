"""The pinned environments (`make lock`): the dev lock pins every declared dependency of
`.[test]` and the studio's, the floors lock each of `.[all]` at its floor, each image's lock every
requirement of its wheelhouse, and a changed image lock changes the image's content hash (so it
is rebuilt)."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from harness import _images as images
from harness import _paths, _wheels

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DEV_LOCK = ROOT / "requirements" / "dev.lock"
FLOORS_LOCK = ROOT / "requirements" / "floors.lock"
STUDIO = ROOT / "examples" / "studio"
# where both locks are resolved for (requirements/lock.py): CPython 3.11 on Linux x86_64
LOCKED_FOR = {
    "python_version": "3.11",
    "python_full_version": "3.11.2",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
}


def pins(lock: Path) -> dict[str, list[str]]:
    """Each distribution pinned in `lock` (a pip constraints file), with every version pinned."""
    found: dict[str, list[str]] = {}
    for line in lock.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pin = Requirement(line)
        (specifier,) = pin.specifier
        assert specifier.operator == "==", line
        found.setdefault(canonicalize_name(pin.name), []).append(specifier.version)
    return found


def unpinned(requirements: list[str], lock: Path, extra: str = "") -> list[str]:
    """The requirements (those that apply where the lock is for) without exactly one pin in
    `lock` inside their range."""
    pinned = pins(lock)
    missing = []
    for line in requirements:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate({**LOCKED_FOR, "extra": extra}):
            continue
        versions = pinned.get(canonicalize_name(requirement.name), [])
        if len(versions) != 1 or versions[0] not in requirement.specifier:
            missing.append(f"{line}: {versions or 'not pinned'}")
    return missing


def declared(extra: str) -> list[str]:
    """The project's requirements with `extra`, its own extras that it names expanded."""
    lines = [*PROJECT["project"]["dependencies"]]
    pending, seen = [extra], set()
    while pending:
        name = pending.pop()
        seen.add(name)
        for line in PROJECT["project"]["optional-dependencies"][name]:
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) == images.DISTRIBUTION:
                pending += sorted(requirement.extras - seen)
            else:
                lines.append(line)
    return lines


def requirements_file(path: Path) -> list[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def test_the_dev_lock_pins_every_declared_dependency_of_the_test_environment() -> None:
    requirements = declared("test")
    assert {"bpy", "gradio", "pytest", "redis", "ruff"} <= {
        canonicalize_name(Requirement(line).name) for line in requirements
    }
    assert unpinned(requirements, DEV_LOCK, extra="test") == []


def test_the_dev_lock_pins_the_studios_dependencies_too() -> None:
    studio = tomllib.loads((STUDIO / "pyproject.toml").read_text())["project"]
    tests = [line for line in studio["optional-dependencies"]["test"] if "harness" not in line]
    requirements = [*requirements_file(STUDIO / "requirements.txt"), *tests]
    assert unpinned(requirements, DEV_LOCK) == []


def test_the_floors_lock_pins_each_requirement_of_all_at_its_floor() -> None:
    """What `make test-floors` tests is the lower bounds themselves (a `==` pin is its own)."""
    requirements = declared("all")
    names = {canonicalize_name(Requirement(line).name) for line in requirements}
    assert {"chromadb-client", "hypothesis", "matplotlib", "pytest", "redis"} <= names
    assert "bpy" not in names  # 821 MB for one Python: the blender extra is asked for by name
    pinned = pins(FLOORS_LOCK)
    off = []
    for line in requirements:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate({**LOCKED_FOR, "extra": "all"}):
            continue
        floor = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==")]
        locked = [Version(v) for v in pinned.get(canonicalize_name(requirement.name), [])]
        if len(floor) != 1 or locked != floor:
            off.append(f"{line}: {locked or 'not pinned'}")
    assert off == []


def python_images() -> dict[str, images.Recipe]:
    return {key: r for key, r in images.recipes().items() if r.requirements}


def test_every_python_image_has_a_lock_that_pins_each_requirement_of_its_wheelhouse() -> None:
    recipes = python_images()
    assert recipes.keys() == {"chromadb", "litellm", "toxiproxy", "httpfaults", "mocks", "blender"}
    for key, recipe in recipes.items():
        assert recipe.constraints == _paths.stack_dir() / "images" / key / "constraints.txt"
        wheelhouse = [*recipe.requirements, *images._MARKER_TRAP]
        assert unpinned(wheelhouse, recipe.constraints) == [], key


def test_the_mocks_image_lock_pins_the_mocks_extra_of_this_checkout() -> None:
    # the recipe reads the installed package's metadata; the checkout's own must agree
    mocks = _paths.stack_dir() / "images" / "mocks" / "constraints.txt"
    assert unpinned(PROJECT["project"]["optional-dependencies"]["mocks"], mocks) == []


def test_the_image_locks_ship_in_the_package() -> None:
    packaged = PROJECT["tool"]["setuptools"]["package-data"]["harness"]
    for recipe in python_images().values():
        assert recipe.constraints is not None
        inside = f"compose/{recipe.constraints.relative_to(_paths.stack_dir())}"
        assert any(fnmatch.fnmatch(inside, pattern) for pattern in packaged), inside


def test_a_changed_lock_changes_the_images_content_hash(tmp_path: Path) -> None:
    lock = tmp_path / "constraints.txt"
    lock.write_text("httpx==0.27.0\n")
    recipe = images.Recipe("app", "app:local", "python", requirements=("httpx",), constraints=lock)
    before = images._recipe_hash("app", recipe, "parent")
    assert images._recipe_hash("app", recipe, "parent") == before
    lock.write_text("httpx==0.28.1\n")
    assert images._recipe_hash("app", recipe, "parent") != before


@pytest.mark.parametrize("python", [sys.version_info[:2], (3, 99)], ids=["wheel", "download"])
def test_the_wheelhouse_is_built_within_the_lock(
    python: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []

    def run(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(_wheels.subprocess, "run", run)
    lock = tmp_path / "constraints.txt"
    _wheels.build(["httpx>=0.27"], tmp_path / "wheels", python, constraints=lock)
    ((*_, constraint, path, requirement),) = commands
    assert (constraint, path, requirement) == ("--constraint", str(lock), "httpx>=0.27")
