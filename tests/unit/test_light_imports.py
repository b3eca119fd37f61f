"""`import harness`, its pytest plugins and `harness --help` load none of the dependencies that
serve one feature (plots, strategies, the backends' clients): each is imported where it is used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FEATURE_ONLY = ("matplotlib", "hypothesis", "chromadb", "openai", "redis")
LOADED = f"print(sorted(m for m in {FEATURE_ONLY!r} if m in sys.modules))"


def _loaded(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}\n{LOADED}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "code",
    [
        "import harness, harness.cli, harness.plugin",
        "import harness.reports.plugin, harness.blender.plugin, harness.data",
        "from harness.cli import app\ntry:\n    app(['--help'])\nexcept SystemExit:\n    pass",
    ],
    ids=["package", "plugins", "help"],
)
def test_no_feature_dependency_is_imported(code: str) -> None:
    assert _loaded(code) == "[]"
