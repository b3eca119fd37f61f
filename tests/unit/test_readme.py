"""The README's Python examples cannot rot.

The strategy and loader examples (*Test data*) run as test modules, unchanged, against a
ComfyUI mock process. Every block elsewhere that starts `# from FILE` must be that file's
code, verbatim: those files run in the suites (the studio's monitoring suite in `make test-studio`,
tests/integration/prometheus_project/ from tests/integration/test_prometheus_scrape_link.py).
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

from tests._pytest_run import run_pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
STRATEGIES = "### Test data: seeded generators and hypothesis strategies"
MONITORING = "### Monitoring: a real Prometheus, and tests that assert alerts"
SOURCE = re.compile(r"# from (?P<path>\S+)\n")

MOCK_CONFTEST = '''
import pytest

from tests.unit.mocks.conftest import MockProcesses


@pytest.fixture(scope="session")
def comfyui_url():
    """The ComfyUI mock as a local process, where the plugin's fixture would give the stack's."""
    procs = MockProcesses()
    try:
        yield procs.start("comfyui", "--step-seconds", "0", "--no-previews")
    finally:
        procs.close()
'''


def python_blocks(heading: str) -> list[str]:
    """The ```python blocks of the README section under `heading`, up to the next heading of
    the same or a higher level (lines in fences are never headings)."""
    level = heading.index(" ")
    blocks: list[str] = []
    inside, fence = False, None  # fence: the open block's language
    for line in README.read_text().splitlines(keepends=True):
        if fence is None and re.match(rf"#{{1,{level}}} ", line):
            if inside:
                break
            inside = line.rstrip("\n") == heading
        elif line.startswith("```"):
            fence = line[3:].strip() if fence is None else None
            if inside and fence == "python":
                blocks.append("")
        elif inside and fence == "python":
            blocks[-1] += line
    assert inside, f"no section {heading!r} in README.md"
    return blocks


def top_level(source: str) -> dict[str, str]:
    """Each top-level statement's text, decorators included, by name (a def's or class's name,
    else the statement itself)."""
    lines = source.splitlines()
    found = {}
    for node in ast.parse(source).body:
        decorators = getattr(node, "decorator_list", [])
        first = min([node.lineno, *(decorator.lineno for decorator in decorators)])
        name = getattr(node, "name", None) or ast.unparse(node)
        found[name] = "\n".join(lines[first - 1 : node.end_lineno])
    return found


def test_the_strategy_example_runs_against_the_comfyui_mock(tmp_path: Path) -> None:
    strategies, loaders = python_blocks(STRATEGIES)
    (tmp_path / "test_readme_strategies.py").write_text(strategies)
    (tmp_path / "test_readme_loaders.py").write_text(loaders)
    (tmp_path / "conftest.py").write_text(MOCK_CONFTEST)
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    outcome = run_pytest(tmp_path, "-p", "no:xdist", env={"PYTHONPATH": pythonpath})
    outcome.assert_passed(
        [
            "test_readme_strategies.py::test_renders_any_workflow",
            "test_readme_strategies.py::test_reports_the_error",
            "test_readme_loaders.py::test_loads_the_files_it_names",
        ]
    )


@pytest.mark.parametrize("heading", [MONITORING])
def test_each_example_is_verbatim_code_of_a_file_that_runs(heading: str) -> None:
    blocks = python_blocks(heading)
    assert blocks, heading
    for block in blocks:
        named = SOURCE.match(block)
        assert named, f"a block under {heading!r} names no source (# from FILE):\n{block}"
        code = block[named.end() :]
        original = top_level((ROOT / named["path"]).read_text())
        shown = top_level(code)
        assert any(name.startswith("test_") for name in shown), block
        for name, text in shown.items():
            assert original.get(name) == text, f"{name} differs from {named['path']}"
