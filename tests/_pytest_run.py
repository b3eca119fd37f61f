"""Run pytest in a directory of its own, as an outside project would, and check its outcome."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Outcome:
    """An inner pytest run: its exit status and its output (stdout, then stderr)."""

    returncode: int
    output: str

    def assert_passed(self, tests: Sequence[str]) -> None:
        """Exit 0, exactly these tests (`file.py::name`) passed, none failed or skipped."""
        assert self.returncode == 0, self.output[-6000:]
        (summary,) = re.findall(r"^=+ (.+) in [\d.]+s", self.output, re.MULTILINE)
        assert summary == f"{len(tests)} passed", self.output[-3000:]
        for test in tests:
            assert re.search(rf"^PASSED (\S+/)?{re.escape(test)}$", self.output, re.M), test


def run_pytest(
    directory: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> Outcome:
    """`python -m pytest -rA ARGS` in `directory`, with this environment less what ties it to
    this pytest run or this project's harness configuration, plus `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HARNESS_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args],
        cwd=directory,
        env=clean | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Outcome(done.returncode, done.stdout + done.stderr)
