"""The repository holds sources only: build output is neither tracked nor trackable."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_no_build_output_is_tracked() -> None:
    tracked = _git("ls-files", "--", "build", "dist", "*.egg-info", "*.whl")
    assert tracked.returncode == 0, tracked.stderr
    assert tracked.stdout.split() == []


def test_build_output_is_ignored() -> None:
    probes = ["build/lib/harness/__init__.py", "dist/mediastack_harness-0.1.0.whl"]
    ignored = _git("check-ignore", "--no-index", *probes)
    assert ignored.stdout.split() == probes
