"""`--dist loadgroup` really keeps an `xdist_group` on one worker.

The integration suite relies on it: the tests marked `xdist_group("inner-runs")` start their own
stacks, `harness up` and `make ci-down`, and must never run at the same time. pytest 9.2 broke
the grouping silently (pytest-dev/pytest-xdist#1386); this catches any such version again.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

GROUPED = """
import pytest

pytestmark = pytest.mark.xdist_group("together")

@pytest.mark.parametrize("n", range(6))
def test_grouped(n):
    pass
"""

FREE = """
def test_free_a():
    pass

def test_free_b():
    pass
"""


def test_an_xdist_group_runs_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    (tmp_path / "test_free.py").write_text(FREE)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:mediastack_harness",
            "-p",
            "no:mediastack_harness_reports",
            "--rootdir",
            str(tmp_path),
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-v",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ran = re.findall(r"\[(gw\d)\].* PASSED (\S+)", result.stdout)
    grouped = {worker for worker, test in ran if "test_grouped" in test}
    assert len([test for _, test in ran if "test_grouped" in test]) == 6, result.stdout
    assert len(grouped) == 1, f"the group ran on {sorted(grouped)}:\n{result.stdout}"
