"""`--harness-shard I/N`: the selected tests split by recorded durations, groups intact,
deterministic, bad input one line; through real pytest runs of a small suite."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import _shards
from harness._errors import HarnessError

SUITE = """
import pytest

group, exclusive = pytest.mark.xdist_group("inner-runs"), pytest.mark.exclusive_stack

@pytest.mark.parametrize("n", range(8))
def test_free(n): pass

@group
def test_grouped_a(): pass

@group
def test_grouped_b(): pass

@exclusive
def test_exclusive_a(): pass

@exclusive
def test_exclusive_b(): pass

def test_slow(): pass
"""
MODULE = "test_suite.py"
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir"]


def run_pytest(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """pytest in `root` (its own rootdir), as a user runs it."""
    return subprocess.run(
        [*PYTEST, str(root), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_pytest(root, "-v", *args)


def _passed(result: subprocess.CompletedProcess[str]) -> set[str]:
    """The passed tests' ids, as pytest -v prints them (under xdist: after PASSED)."""
    found = re.findall(r"(\S+::\S+) PASSED|PASSED (\S+::\S+)", result.stdout)
    return {_shards.plain_nodeid(a or b) for a, b in found}


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / MODULE).write_text(SUITE)
    return tmp_path


def test_shards_partition_the_suite_and_keep_groups_together(suite: Path) -> None:
    every = _passed(_run(suite))
    assert len(every) == 13
    shards = [_passed(_run(suite, "--harness-shard", f"{i}/3")) for i in (1, 2, 3)]
    assert set().union(*shards) == every and sum(map(len, shards)) == len(every)
    for together in (
        ("test_grouped_a", "test_grouped_b"),
        ("test_exclusive_a", "test_exclusive_b"),
    ):
        holding = [s for s in shards if any(t.endswith(together[0]) for t in s)]
        assert len(holding) == 1 and any(t.endswith(together[1]) for t in holding[0])
    assert [_passed(_run(suite, "--harness-shard", f"{i}/3")) for i in (1, 2, 3)] == shards


def test_recorded_durations_balance_the_shards(suite: Path) -> None:
    durations = {f"{MODULE}::test_free[{n}]": 1.0 for n in range(8)}
    durations |= {f"{MODULE}::test_slow": 8.0, f"{MODULE}::test_grouped_a": 2.0}
    _shards.write_durations(suite / _shards.DURATIONS_FILE, durations)
    first = _passed(_run(suite, "--harness-shard", "1/2"))
    second = _passed(_run(suite, "--harness-shard", "2/2"))
    loads = [sum(durations.get(t, 0.0) for t in s) for s in (first, second)]
    assert loads == [9.0, 9.0]  # the 8 s test and one 1 s test; the 2 s group and seven
    slow = first if f"{MODULE}::test_slow" in first else second
    assert sum("test_free" in t for t in slow) == 1


def test_under_xdist_a_groups_recorded_duration_counts_and_its_workers_are_planned(
    suite: Path,
) -> None:
    """In an xdist worker the ids already carry loadgroup's `@inner-runs`: the durations file
    has them plain. The 20 s group and the 20 s test fill one worker each, so they are apart."""
    durations = {f"{MODULE}::test_free[{n}]": 1.0 for n in range(8)}
    durations |= {f"{MODULE}::test_grouped_{x}": 10.0 for x in "ab"}
    durations |= {f"{MODULE}::test_slow": 20.0}
    _shards.write_durations(suite / _shards.DURATIONS_FILE, durations)
    xdist = ("-n", "2", "--dist", "loadgroup")
    shards = [_passed(_run(suite, *xdist, "--harness-shard", f"{i}/2")) for i in (1, 2)]
    assert set().union(*shards) == _passed(_run(suite)) and sum(map(len, shards)) == 13
    (grouped,) = [s for s in shards if f"{MODULE}::test_grouped_a" in s]
    assert f"{MODULE}::test_grouped_b" in grouped and f"{MODULE}::test_slow" not in grouped


def test_the_planner_is_deterministic_and_spreads_unknown_tests_by_count() -> None:
    tests = [(f"t.py::test_{n}", f"t.py::test_{n}") for n in range(9)]
    durations = {"t.py::test_0": 5.0}
    picks = [_shards.select(tests, _shards.Shard(i, 3), durations) for i in (1, 2, 3)]
    assert picks == [_shards.select(tests, _shards.Shard(i, 3), durations) for i in (1, 2, 3)]
    assert "t.py::test_0" in picks[0]  # the timed one first, then 8 spread by count: 2, 3, 3
    assert [len(p) for p in picks] == [3, 3, 3]


def test_an_empty_shard_passes_and_says_so(suite: Path) -> None:
    result = _run(suite, "--harness-shard", "14/14")
    assert result.returncode == 0, result.stdout
    assert "mediastack-harness: shard 14/14 has no tests: nothing to run" in result.stdout


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("3/2", "--harness-shard 3/2: I must be between 1 and N"),
        ("0/2", "--harness-shard 0/2: I must be between 1 and N"),
        ("two", "--harness-shard 'two': give I/N, as in 1/3"),
    ],
)
def test_a_bad_shard_is_one_line(suite: Path, spec: str, message: str) -> None:
    result = _run(suite, "--harness-shard", spec)
    assert result.returncode == 4
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == [f"ERROR: {errors[0][7:]}"] and message in errors[0]


def test_a_durations_file_that_does_not_parse_is_one_line(suite: Path) -> None:
    (suite / _shards.DURATIONS_FILE).write_text('{"durations": [1, 2')
    result = _run(suite, "--harness-shard", "1/2")
    assert result.returncode == 4
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert "does not parse" in line and "harness durations update" in line
    with pytest.raises(HarnessError, match="does not parse"):
        _shards.load_durations(suite / _shards.DURATIONS_FILE)


def test_durations_are_written_one_test_a_line_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / _shards.DURATIONS_FILE
    _shards.write_durations(path, {"b.py::t": 1.23456, "a.py::t[x@y]": 2.0})
    assert json.loads(path.read_text())["durations"] == {"a.py::t[x@y]": 2.0, "b.py::t": 1.235}
    assert path.read_text().splitlines()[1].startswith('  "a.py::t[x@y]"')
    assert _shards.load_durations(path) == {"a.py::t[x@y]": 2.0, "b.py::t": 1.235}
    assert _shards.plain_nodeid("a.py::t[x@y]@inner-runs") == "a.py::t[x@y]"
