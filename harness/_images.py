"""How the stack's images come to exist: pulled upstream, or built here with no registry.

Offline, every image is built locally under the same name the compose file uses:
a Debian bookworm base from `debootstrap --variant=minbase` (imported once and cached),
Debian's Python in a venv on top, then each service with apt packages installed in the build and
Python packages from a wheelhouse built on the host (`pip wheel`, installed with `--no-index`).
Each built image carries a content-hash label; an unchanged image is never rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from docker import DockerClient
from docker.errors import APIError, ImageNotFound
from packaging.requirements import Requirement

from harness import _docker, _locks, _paths, _wheels
from harness import _topology as topology
from harness._config import Project
from harness._errors import HarnessError, ImageMissing

HASH_LABEL = "org.mediastack-harness.content-hash"
RECIPE_LABEL = "org.mediastack-harness.image"
BUILD_STAGE_LABEL = "org.mediastack-harness.stage=build"
BASE_TAG = "mediastack-harness/bookworm-base:minbase"
NETFAULT_TAG = os.environ.get("HARNESS_NETFAULT_IMAGE", "mediastack-harness/netfault:local")
HTTPFAULTS_TAG = os.environ.get("HARNESS_HTTPFAULTS_IMAGE", "mediastack-harness/httpfaults:local")
PYTHON_TAG = "mediastack-harness/python:3.11-bookworm"
DISTRIBUTION = "mediastack-harness"
BLENDER_TAG = os.environ.get("HARNESS_BLENDER_IMAGE", "mediastack-harness/blender:5.0.1")
DEBIAN_MIRROR = os.environ.get("HARNESS_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# The image's Python is Debian's 3.11.2; the host resolver skips deps marked for < 3.11.3.
_MARKER_TRAP = ["async-timeout>=4.0.3"]

Report = Callable[[str], None]


@dataclass(frozen=True)
class Recipe:
    """How one image is made when it cannot be pulled.

    A recipe with `requirements` is a Python app: the one shared `python-app` Dockerfile, a venv
    from a host-built wheelhouse, its `app` files under /app and its `root` files at /, all from
    one `files/` tree that mirrors the image's root. The stack's own Python images pin their
    wheelhouse with `constraints` (their lock, `make lock`; part of the content hash).
    """

    key: str
    tag: str
    parent: str | None = None  # the recipe whose image is this one's build arg
    upstream: bool = False  # an official image exists and may be pulled instead
    requirements: tuple[str, ...] = ()
    app: tuple[tuple[Path, str], ...] = field(default_factory=tuple)  # (source, path under /app)
    root: tuple[tuple[Path, str], ...] = field(default_factory=tuple)  # (source, path under /)
    apt: tuple[str, ...] = ()  # Debian packages a Python app also needs
    constraints: Path | None = None  # pip constraints: the wheelhouse's pinned versions

    @property
    def directory(self) -> Path:
        """Where its Dockerfile is."""
        key = PYTHON_APP if self.requirements else self.key
        return _paths.stack_dir() / "images" / key

    @property
    def extra(self) -> tuple[tuple[Path, str], ...]:
        """Every file added to the build context besides the Dockerfile, with its context path."""
        return (
            *((source, f"files/app/{target}") for source, target in self.app),
            *((source, f"files/{target}") for source, target in self.root),
        )


PYTHON_APP = "python-app"
CONSTRAINTS = "constraints.txt"  # an image's lock, beside its requirements (`make lock`)


def _requirements_file(key: str) -> tuple[str, ...]:
    path = _paths.stack_dir() / "images" / key / "requirements.txt"
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return tuple(line for line in lines if line)


def _constraints_file(key: str) -> Path:
    """The lock of image `key`'s wheelhouse, shipped with the stack (`make lock` writes it)."""
    return _paths.stack_dir() / "images" / key / CONSTRAINTS


def package_requirements(extra: str) -> tuple[str, ...]:
    """The installed mediastack-harness's requirements for `extra` (from its own metadata)."""
    try:
        declared = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        raise HarnessError(
            f"{DISTRIBUTION} is not installed: `pip install {DISTRIBUTION}`"
        ) from None
    return _extra_requirements(tuple(declared), extra)


@cache
def _extra_requirements(declared: tuple[str, ...], extra: str) -> tuple[str, ...]:
    """The requirements of `extra` among the `declared` lines (parsed once per process)."""
    chosen = []
    for line in declared:
        requirement = Requirement(line)
        if requirement.marker is None or not requirement.marker.evaluate({"extra": extra}):
            continue
        if requirement.marker.evaluate({"extra": ""}) or requirement.name == DISTRIBUTION:
            continue  # not an extra's, or a self-reference
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        chosen.append(f"{requirement.name}{extras}{requirement.specifier}")
    return tuple(chosen)


def _package_dir(name: str) -> Path:
    """An installed package's own directory (the files the images are built from), found
    without importing it (its dependencies need not be installed here)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise HarnessError(f"package {name} is not installed: reinstall {DISTRIBUTION}")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def _shims() -> tuple[tuple[Path, str], ...]:
    directory = _paths.stack_dir() / "images" / "toxiproxy"
    return ((directory / "toxiproxy", "toxiproxy"), (directory / "toxiproxy-cli", "toxiproxy-cli"))


def recipes() -> dict[str, Recipe]:
    """Every image the stack can need, parents before children."""
    stack = topology.load()
    mocks = _package_dir("harness.mocks")
    return {
        "base": Recipe("base", BASE_TAG),
        "python": Recipe("python", PYTHON_TAG, parent="base"),
        "redis": Recipe("redis", stack.get("redis").image, parent="base", upstream=True),
        "chromadb": Recipe(
            "chromadb",
            stack.get("chromadb").image,
            parent="python",
            upstream=True,
            requirements=_requirements_file("chromadb"),
            constraints=_constraints_file("chromadb"),
        ),
        "litellm": Recipe(
            "litellm",
            stack.get("litellm").image,
            parent="python",
            upstream=True,
            requirements=_requirements_file("litellm"),
            constraints=_constraints_file("litellm"),
        ),
        "toxiproxy": Recipe(
            "toxiproxy",
            stack.proxy_image,
            parent="python",
            upstream=True,
            requirements=_requirements_file("toxiproxy"),
            constraints=_constraints_file("toxiproxy"),
            app=(
                (mocks / "__init__.py", "mocks/__init__.py"),
                (mocks / "toxiproxy", "mocks/toxiproxy"),
            ),
            root=_shims(),
        ),
        # the HTTP fault layer: always built here (no upstream image)
        "httpfaults": Recipe(
            "httpfaults",
            HTTPFAULTS_TAG,
            parent="python",
            requirements=_requirements_file("httpfaults"),
            constraints=_constraints_file("httpfaults"),
            app=(
                (mocks / "__init__.py", "mocks/__init__.py"),
                (mocks / "toxiproxy", "mocks/toxiproxy"),
                (mocks / "httpfaults", "mocks/httpfaults"),
            ),
        ),
        "netfault": Recipe("netfault", NETFAULT_TAG, parent="base"),
        # Debian's prometheus package (promtool included), for the optional Prometheus backend
        "prometheus": Recipe(
            "prometheus", stack.get("prometheus").image, parent="base", upstream=True
        ),
        "mocks": Recipe(
            "mocks",
            stack.get("comfyui").image,
            parent="python",
            requirements=package_requirements("mocks"),
            constraints=_constraints_file("mocks"),
            app=((mocks, "mocks"),),
        ),
        "blender": Recipe(  # bpy for harness.blender sessions when the host's Python cannot run it
            "blender",
            BLENDER_TAG,
            parent="python",
            requirements=_requirements_file("blender"),
            constraints=_constraints_file("blender"),
            # the X11/GL libraries bpy links against, even headless (offline-images.md)
            apt=(
                "libx11-6",
                "libxrender1",
                "libxfixes3",
                "libxi6",
                "libxkbcommon0",
                "libsm6",
                "libice6",
                "libxext6",
                "libgl1",
                "libxxf86vm1",
            ),
        ),
    }


PARENTS = ("base", "python")  # built from, never run
# Built on a kernel fault's first use (`ensure_lazily`), not by a project's `harness images build`
LAZY = ("netfault",)
NOT_IN_STACK = (*PARENTS, "blender", *LAZY)  # images no stack container runs


def needed(project: Project | None, backends: Sequence[str] | None = None) -> list[str]:
    """The images (recipe keys, parents first) `project` uses: its backends' (`backends`: only
    these; default: the project's), the Toxiproxy image in front of every backend, Blender's when
    the project configures an add-on (a `[blender]` table), and the parents they are built from.

    The project's own backends and services under test are built by compose from its own files;
    netfault is built when a kernel fault first needs it (`ensure_lazily`). `harness images build
    --all` builds every recipe instead.
    """
    stack = topology.for_project(project)
    every = recipes()
    by_tag = {recipe.tag: key for key, recipe in every.items()}
    wanted = {"toxiproxy", "httpfaults"}
    for service in stack.select(backends):
        if not service.own and service.image in by_tag:
            wanted.add(by_tag[service.image])
    if project is not None and "blender" in project.config.model_fields_set:
        wanted.add("blender")
    for key in list(wanted):
        parent = every[key].parent
        while parent is not None:
            wanted.add(parent)
            parent = every[parent].parent
    return [key for key in every if key in wanted]


def stack_images(keys: Sequence[str]) -> list[str]:
    """The tags of those images among `keys` that a stack's containers run (not the parents,
    Blender's or netfault)."""
    every = recipes()
    return [every[key].tag for key in keys if key not in NOT_IN_STACK]


def ensure_lazily(key: str, report: Report = print) -> str:
    """The tag of image `key`, built first if it is absent (netfault, on a kernel fault's first
    use); one process at a time builds it, the others wait and find it present."""
    tag = recipes()[key].tag
    engine = _docker.client()
    if _present(engine, tag):
        return tag
    with _locks.exclusive(_paths.state_dir() / f"image-{key}.lock"):
        if not _present(engine, tag):
            report(f"{key}: absent, building it now (`harness images build --all` builds it ahead)")
            ImageBuilder(report=report).ensure([key])
    return tag


def _present(engine: DockerClient, tag: str) -> bool:
    try:
        engine.images.get(tag)
    except ImageNotFound:
        return False
    return True


# What an installed package holds (its modules and package data): a checkout and a wheel install
# give the same files, so the same content hash.
_PACKAGE_FILES = {".py", ".json", ".yaml", ".png"}


def _files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    found = []
    for directory, subdirectories, names in os.walk(root):  # as rglob: no symlinked directories
        subdirectories[:] = [name for name in subdirectories if name != "__pycache__"]
        found += [Path(directory, name) for name in names]
    for path in sorted(found):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            yield path


def _context_files(source: Path, context_path: str) -> Iterator[Path]:
    """An app's files as installed (modules and package data); other context files as they are."""
    for path in _files(source):
        if not context_path.startswith("files/app/") or path.suffix in _PACKAGE_FILES:
            yield path


# Recipe hashes computed in this process, keyed on all they are made of, a file by its stat (size,
# mtime and ctime in ns: ctime also moves when an edit restores size and mtime). An unchanged
# recipe's files are then listed and stat'ed, not read again. A hash is kept only when every file
# had settled before the hashing began (its ctime SETTLE_NS earlier), so that a later edit within
# the same timestamp tick still shows as another stat (git's "racy clean" rule).
SETTLE_NS = 2_000_000_000
_HASHED: dict[tuple[object, ...], str] = {}


def _recipe_files(recipe: Recipe) -> list[tuple[Path, str]]:
    """Each file of the recipe's build inputs, with the name it is hashed under: its lock too
    (the wheelhouse's versions)."""
    files = [
        (path, str(path.relative_to(root) if root.is_dir() else path.name))
        for root, where in [(recipe.directory, ""), *recipe.extra]
        for path in _context_files(root, where)
    ]
    if recipe.constraints is not None:
        files.append((recipe.constraints, CONSTRAINTS))
    return files


def _recipe_hash(key: str, recipe: Recipe, parent: str | None) -> str:
    """The content hash of `recipe` under `key` (`parent`: its parent's; None for the base)."""
    started = time.time_ns()
    files = [] if parent is None else _recipe_files(recipe)
    stats = [path.stat() for path, _ in files]
    stamps = tuple(
        (path, name, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        for (path, name), st in zip(files, stats, strict=True)
    )
    memo = (key, recipe, parent, DEBIAN_MIRROR, stamps)
    if memo in _HASHED:
        return _HASHED[memo]
    digest = hashlib.sha256(f"{key}\n{recipe.tag}\n".encode())
    if parent is None:
        digest.update(f"debootstrap minbase bookworm {DEBIAN_MIRROR}".encode())
    else:
        digest.update(parent.encode())
        for path, name in files:
            digest.update(name.encode())
            digest.update(path.read_bytes())
        digest.update("\n".join(recipe.requirements).encode())
        digest.update(" ".join(recipe.apt).encode())
    content_hash = digest.hexdigest()[:16]
    if all(st.st_ctime_ns < started - SETTLE_NS for st in stats):
        _HASHED[memo] = content_hash
    return content_hash


class ImageBuilder:
    """Builds (or pulls) the stack's images; skips any whose content hash is unchanged."""

    def __init__(self, offline: bool | None = None, report: Report = print) -> None:
        self.offline = offline  # None: find out on the first failed pull
        self.report = report
        self.engine = _docker.client()
        self.recipes = recipes()
        self._hashes: dict[str, str] = {}

    # -- content hashes --------------------------------------------------------------
    def content_hash(self, key: str) -> str:
        """Hash of everything that goes into the image, its parent's hash included."""
        if key not in self._hashes:
            recipe = self.recipes[key]
            parent = None if key == "base" else self.content_hash(recipe.parent or "base")
            self._hashes[key] = _recipe_hash(key, recipe, parent)
        return self._hashes[key]

    def is_current(self, key: str) -> bool:
        """True when the image exists and was built from exactly these inputs."""
        try:
            labels = self.engine.images.get(self.recipes[key].tag).labels or {}
        except ImageNotFound:
            return False
        return labels.get(HASH_LABEL) == self.content_hash(key)

    # -- building ----------------------------------------------------------------------
    def ensure(self, keys: list[str] | None = None, force: bool = False) -> None:
        """Make every named image (all by default) present and current."""
        default = [key for key in self.recipes if key not in PARENTS]
        for key in default if keys is None else keys:
            self._ensure(key, force)

    def _ensure(self, key: str, force: bool) -> None:
        recipe = self.recipes[key]
        if not force and self.is_current(key):
            self.report(f"{key}: up to date ({recipe.tag})")
            return
        if recipe.upstream and not force and self._pulled_upstream(recipe):
            return
        if recipe.parent:
            self._ensure(recipe.parent, force=False)
        self.report(f"{key}: building {recipe.tag}")
        if key == "base":
            self._debootstrap(recipe)
        else:
            self._docker_build(recipe)
        self.report(f"{key}: built {recipe.tag}")

    def _pulled_upstream(self, recipe: Recipe) -> bool:
        try:
            image = self.engine.images.get(recipe.tag)
            if HASH_LABEL not in (image.labels or {}):
                self.report(f"{recipe.key}: using upstream {recipe.tag}")
                return True
        except ImageNotFound:
            pass
        if self.offline:
            return False
        try:
            self.report(f"{recipe.key}: pulling {recipe.tag}")
            self.engine.images.pull(recipe.tag)
            self.offline = False
            return True
        except APIError as error:
            self.report(f"no registry reachable ({str(error)[:80]}...): building locally")
            self.offline = True
            return False

    def _debootstrap(self, recipe: Recipe) -> None:
        if shutil.which("debootstrap") is None:
            raise HarnessError(
                "debootstrap is missing: `apt-get install debootstrap` (or `make setup`)"
            )
        with tempfile.TemporaryDirectory(prefix="harness-rootfs-") as rootfs:
            subprocess.run(
                ["debootstrap", "--variant=minbase", "bookworm", rootfs, DEBIAN_MIRROR],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            for leftover in ("var/lib/apt/lists", "var/cache/apt/archives"):
                for path in (Path(rootfs) / leftover).glob("*"):
                    if path.is_file():
                        path.unlink()
            changes = [f"LABEL {HASH_LABEL}={self.content_hash(recipe.key)}", 'CMD ["bash"]']
            args = ["docker", "import"]
            for change in changes:
                args += ["--change", change]
            tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
            subprocess.run(
                [*args, "-", recipe.tag], stdin=tar.stdout, check=True, stdout=subprocess.DEVNULL
            )
            tar.wait()

    def _wheelhouse(self, recipe: Recipe) -> Path:
        wheels = _paths.state_dir() / "wheelhouse" / recipe.key
        self.report(f"{recipe.key}: wheelhouse ({len(recipe.requirements)} requirements)")
        requirements = [*recipe.requirements, *_MARKER_TRAP]
        return _wheels.build(requirements, wheels, constraints=recipe.constraints)

    def _docker_build(self, recipe: Recipe) -> None:
        parent_arg = "BASE_IMAGE" if recipe.parent == "base" else "PYTHON_IMAGE"
        parent_tag = self.recipes[recipe.parent or "base"].tag
        wheels = self._wheelhouse(recipe) if recipe.requirements else None
        with tempfile.TemporaryFile() as context:
            with tarfile.open(fileobj=context, mode="w") as tar:
                for path in _files(recipe.directory):
                    tar.add(path, arcname=str(path.relative_to(recipe.directory)))
                if recipe.requirements:  # never an empty COPY (the legacy builder fails on one)
                    for directory in ("files", "files/app", "files/data"):
                        self._add_directory(tar, directory)
                for source, arcname in recipe.extra:
                    for path in _context_files(source, arcname):
                        inner = path.relative_to(source) if source.is_dir() else ""
                        tar.add(path, arcname=f"{arcname}/{inner}".rstrip("/"))
                if wheels is not None:
                    tar.add(wheels, arcname="wheels")
                    self._add_text(tar, "requirements.txt", "\n".join(recipe.requirements) + "\n")
                    # the wheelhouse may keep other versions from earlier builds: pip installs
                    # the locked ones (an app without a lock: an empty constraints file)
                    pins = recipe.constraints.read_text() if recipe.constraints else ""
                    self._add_text(tar, CONSTRAINTS, pins)
            context.seek(0)
            stream = self.engine.api.build(
                fileobj=context,
                custom_context=True,
                tag=recipe.tag,
                buildargs={parent_arg: parent_tag, "APT_PACKAGES": " ".join(recipe.apt)},
                labels={HASH_LABEL: self.content_hash(recipe.key), RECIPE_LABEL: recipe.key},
                rm=True,
                forcerm=True,
                decode=True,
            )
            tail: list[str] = []
            for chunk in stream:
                if "error" in chunk:
                    raise HarnessError(
                        f"building {recipe.tag} failed: {chunk['error'].strip()}\n"
                        + "".join(tail[-20:])
                    )
                line = chunk.get("stream", "")
                if line:
                    tail.append(line)
                    if line.startswith("Step "):
                        self.report(f"{recipe.key}: {line.strip()}")
        # The build stage (with its wheels) is dangling now: drop it, only ours.
        # and so is the image this one replaced.
        for label in (BUILD_STAGE_LABEL, RECIPE_LABEL):
            self.engine.images.prune(filters={"dangling": True, "label": label})

    @staticmethod
    def _add_directory(tar: tarfile.TarFile, name: str) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)

    @staticmethod
    def _add_text(tar: tarfile.TarFile, name: str, text: str) -> None:
        import io

        data = text.encode()
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def build_python_app(
    tag: str,
    requirements: Sequence[str],
    sources: Sequence[Path],
    *,
    report: Report = print,
    force: bool = False,
) -> None:
    """Build an adopter's Python service offline, as the stack's own Python images are built:
    the python-app recipe, a venv from a wheelhouse built here from `requirements`, and each
    source (a package directory or a file) under /app. Unchanged inputs: nothing is rebuilt."""
    missing = [str(path) for path in sources if not path.exists()]
    if missing:
        raise HarnessError(f"no such source: {', '.join(missing)}")
    if not requirements:
        raise HarnessError("a Python app needs requirements (--requirement FILE or PACKAGE)")
    key = "app-" + "".join(ch if ch.isalnum() else "-" for ch in tag)
    recipe = Recipe(
        key,
        tag,
        parent="python",
        requirements=tuple(requirements),
        app=tuple((path.resolve(), path.name) for path in sources),
    )
    builder = ImageBuilder(offline=True, report=report)
    builder.recipes[key] = recipe
    builder.ensure([key], force=force)


def read_requirements(path: Path) -> list[str]:
    """The requirement lines of a requirements file (comments and blanks left out)."""
    if not path.is_file():
        raise HarnessError(f"no such requirements file: {path}")
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def listing(keys: Sequence[str] | None = None) -> list[dict[str, str]]:
    """Each stack image (those of `keys`, else all): its tag, whether present, and where it came
    from."""
    builder_hashes = ImageBuilder(report=lambda _: None)
    rows = []
    for key, recipe in builder_hashes.recipes.items():
        if keys is not None and key not in keys:
            continue
        try:
            labels = builder_hashes.engine.images.get(recipe.tag).labels or {}
            origin = "built here" if HASH_LABEL in labels else "upstream"
            state = "current" if builder_hashes.is_current(key) or origin == "upstream" else "stale"
        except ImageNotFound:
            origin, state = "-", "missing"
        rows.append({"image": key, "tag": recipe.tag, "origin": origin, "state": state})
    return rows


def require(tags: list[str]) -> None:
    """Fail with one line naming `harness images build` when an image is absent or stale.

    Stale: built here from other inputs than this package's (an upgraded harness, an edited mock).
    Images pulled from a registry, and tags that are not one of the stack's recipes, are taken
    as they are.
    """
    engine = _docker.client()
    missing, stale = [], []
    builder: ImageBuilder | None = None
    for tag in tags:
        try:
            labels = engine.images.get(tag).labels or {}
        except ImageNotFound:
            missing.append(tag)
            continue
        if HASH_LABEL not in labels:
            continue
        builder = builder or ImageBuilder(offline=True)
        key = next((k for k, recipe in builder.recipes.items() if recipe.tag == tag), None)
        if key is not None and labels[HASH_LABEL] != builder.content_hash(key):
            stale.append(tag)
    if missing:
        raise ImageMissing(f"image(s) missing: {', '.join(missing)}: run `harness images build`")
    if stale:
        raise ImageMissing(
            f"image(s) built from other harness files than these: {', '.join(stale)}: "
            "run `harness images build`"
        )
