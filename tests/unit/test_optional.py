"""A feature whose extra is not installed says so in one line naming the extra: the client
fixtures, harness.data and its strategies (each in a process of its own, where the optional package
cannot be imported); the HTML report's are in test_reports.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness._errors import HarnessError
from harness._optional import MissingExtra, fixture_require, require
from tests._pytest_run import run_pytest

ROOT = Path(__file__).resolve().parents[2]


def _without(modules: tuple[str, ...], code: str) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter in which none of `modules` can be imported."""
    blocked = "".join(f"sys.modules[{name!r}] = None\n" for name in modules)
    return subprocess.run(
        [sys.executable, "-c", f"import sys\n{blocked}{code}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_missing_module_is_one_line_naming_the_extra() -> None:
    with pytest.raises(MissingExtra) as raised:
        require("redis_of_another_world", "redis", "redis_client")
    assert str(raised.value) == (
        "redis_client needs redis_of_another_world: pip install 'mediastack-harness[redis]'"
    )
    assert isinstance(raised.value, HarnessError) and isinstance(raised.value, ImportError)


def test_the_distribution_is_named_where_it_differs_from_the_module() -> None:
    done = _without(
        ("redis",),
        "from harness._optional import require\n"
        "try:\n    require('redis', 'redis', 'redis_client')\n"
        "except ImportError as e:\n    print(e)",
    )
    assert done.stdout == "redis_client needs redis-py: pip install 'mediastack-harness[redis]'\n"


def test_a_fixture_fails_its_test_with_that_line_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(
        "import pytest\n"
        "from harness._optional import fixture_require\n\n"
        "@pytest.fixture\n"
        "def chroma_client():\n"
        "    return fixture_require('chromadb_of_another_world', 'chroma', 'chroma_client')\n\n"
        "def test_uses(chroma_client):\n"
        "    pass\n"
    )
    outcome = run_pytest(tmp_path, "-p", "no:xdist", "test_inner.py")
    line = "chroma_client needs chromadb_of_another_world: pip install 'mediastack-harness[chroma]'"
    assert outcome.returncode == 1, outcome.output
    assert line in outcome.output.splitlines()
    assert "Traceback" not in outcome.output and "fixture_require(" not in outcome.output
    with pytest.raises(pytest.fail.Exception):
        fixture_require("chromadb_of_another_world", "chroma", "chroma_client")


@pytest.mark.parametrize(
    ("blocked", "code", "line"),
    [
        (
            ("hypothesis",),
            "import harness.data.strategies",
            "harness.data.strategies needs hypothesis: pip install 'mediastack-harness[data]'",
        ),
        (
            ("PIL",),
            "import harness.data",
            "harness.data needs Pillow: pip install 'mediastack-harness[data]'",
        ),
        (
            ("fastapi",),
            "from harness.data import mock_object_info\nmock_object_info()",
            "mock_object_info() needs fastapi: pip install 'mediastack-harness[data]'",
        ),
    ],
    ids=["strategies", "data", "mocks"],
)
def test_harness_data_without_its_extra(blocked: tuple[str, ...], code: str, line: str) -> None:
    done = _without(blocked, f"try:\n    {code.replace(chr(10), chr(10) + '    ')}\n"
                    "except ImportError as e:\n    print(type(e).__name__, e)")  # fmt: skip
    assert done.stdout.strip().split(" ", 1)[1] == line, done.stdout + done.stderr
