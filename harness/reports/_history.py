"""Outcomes of the last runs, kept in a directory between CI runs, and the flaky tests in them.

A test is flaky when it passed and failed on the same commit, or when its outcome flipped more
than once in the kept runs (pass, fail, pass: one flip is a break or a fix, two are not). A
flaky test is shown, never retried.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from harness._errors import HarnessError

HISTORY_FILE = "history.json"
KEEP = 20
SHOWN = 10  # the recent outcomes listed beside a flaky test
_RED = ("failed", "error")
_COUNTED = ("passed", *_RED)


def load(directory: Path) -> list[dict[str, Any]]:
    """The kept runs, oldest first ([] for a new directory)."""
    path = directory / HISTORY_FILE
    if not path.is_file():
        return []
    try:
        runs = json.loads(path.read_text())["runs"]
        return [dict(r) for r in runs]
    except (ValueError, KeyError, TypeError) as error:
        raise HarnessError(
            f"history {path} does not parse ({error}): delete it to start anew"
        ) from None


def record(directory: Path, report: dict[str, Any], keep: int = KEEP) -> list[dict[str, Any]]:
    """Add the run to the history in `directory` (a run already there is replaced), keep the
    last `keep`, write it; the runs, oldest first."""
    entry = {
        "run": report["run"],
        "commit": report.get("commit"),
        "finished": report["finished"],
        "outcomes": {t["nodeid"]: t["outcome"] for t in report["tests"]},
    }
    runs = [r for r in load(directory) if r.get("run") != entry["run"]]
    runs = sorted([*runs, entry], key=lambda r: (float(r["finished"]), str(r["run"])))[-keep:]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / HISTORY_FILE).write_text(json.dumps({"version": 1, "runs": runs}, indent=1))
    return runs


def flaky(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The flaky tests of the newest run: each with why, and its recent outcomes (oldest first)."""
    if not runs:
        return []
    found = []
    for nodeid in sorted(runs[-1]["outcomes"]):
        seen = [(r.get("commit"), r["outcomes"].get(nodeid)) for r in runs]
        seen = [(commit, outcome) for commit, outcome in seen if outcome in _COUNTED]
        reason = _same_commit(seen) or _flips(seen)
        if reason:
            recent = [outcome for _, outcome in seen][-SHOWN:]
            found.append({"nodeid": nodeid, "reason": reason, "recent": recent})
    return found


def _same_commit(seen: list[tuple[Any, str]]) -> str | None:
    by_commit: dict[str, set[bool]] = {}
    for commit, outcome in seen:
        if commit:
            by_commit.setdefault(str(commit), set()).add(outcome in _RED)
    both = sorted(c for c, reds in by_commit.items() if len(reds) == 2)
    return f"passed and failed on commit {both[0][:12]}" if both else None


def _flips(seen: list[tuple[Any, str]]) -> str | None:
    reds = [outcome in _RED for _, outcome in seen]
    flips = sum(1 for a, b in itertools.pairwise(reds) if a != b)
    return f"flipped {flips} times in the last {len(reds)} runs" if flips >= 2 else None
