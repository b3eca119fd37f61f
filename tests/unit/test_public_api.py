"""The package boundary: `harness` declares its public API, and the outside adopters in
examples/ use nothing else."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import harness

ROOT = Path(__file__).resolve().parents[2]
# The top-level API and the documented submodule APIs, each bounded by its own __all__.
PUBLIC_MODULES = (
    "harness",
    "harness.faults",
    "harness.data",
    "harness.data.strategies",
    "harness.blender",
    "harness.reports",
)


def _type_checking_names() -> set[str]:
    """The names harness/__init__.py imports for type checkers."""
    tree = ast.parse(Path(harness.__file__).read_text())
    ifs = [n for n in tree.body if isinstance(n, ast.If)]
    (guard,) = [n for n in ifs if ast.unparse(n.test) == "TYPE_CHECKING"]
    return {
        alias.asname or alias.name
        for node in ast.walk(guard)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_every_public_name_resolves_to_what_its_module_defines() -> None:
    exports = harness._EXPORTS
    assert set(harness.__all__) == {"__version__", *exports}
    assert _type_checking_names() == set(exports)
    for name, module in exports.items():
        assert getattr(harness, name) is getattr(importlib.import_module(module), name), name
    assert harness.__version__ == importlib.metadata.version("mediastack-harness")


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Stak'"):
        harness.Stak  # noqa: B018


def test_importing_harness_loads_no_engine_or_test_machinery() -> None:
    """`python -m harness.mocks.<name>` imports `harness` first: it must stay cheap."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import harness, sys; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    heavy = {"docker", "pytest", "httpx", "pydantic", "harness._stack", "harness.plugin"}
    assert heavy.isdisjoint(name.strip("[],'") for name in loaded)


def _harness_imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) for each thing `path` imports from harness."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "harness":
                found += [(node.lineno, node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, alias.name, "")
                for alias in node.names
                if alias.name.split(".")[0] == "harness"
            ]
    return found


def _offences(path: Path, shown: str) -> list[str]:
    offences = []
    for line, module, name in _harness_imports(path):
        where = f"{shown}:{line}"
        if module not in PUBLIC_MODULES:
            offences.append(f"{where}: {module} is not a public module")
        elif name and name not in importlib.import_module(module).__all__:
            offences.append(f"{where}: {module}.{name} is not in its __all__")
    return offences


def test_the_examples_import_only_the_public_api() -> None:
    sources = sorted((ROOT / "examples").rglob("*.py"))
    assert len(sources) > 20  # the studio and the director add-on are both read
    found = [_offences(path, str(path.relative_to(ROOT))) for path in sources]
    assert [offence for offences in found for offence in offences] == []


def test_the_check_catches_a_private_import(tmp_path: Path) -> None:
    adopter = tmp_path / "probe.py"
    adopter.write_text(
        "from harness import Stack\n"
        "from harness.plugin import WorkerBackends\n"
        "from harness.faults import _base\n"
        "import harness._stack\n"
    )
    assert _offences(adopter, "probe.py") == [
        "probe.py:2: harness.plugin is not a public module",
        "probe.py:3: harness.faults._base is not in its __all__",
        "probe.py:4: harness._stack is not a public module",
    ]
