"""Shards: the selected tests split into N groups balanced by recorded durations.

A shard is `I/N` (1 ≤ I ≤ N). Tests that must run together stay together: an `xdist_group`,
and the `exclusive_stack` tests of one module. Groups with recorded durations are placed
longest first where the shard's run, on its xdist workers, would end soonest; groups without
one are then spread by count. The same tests, durations and worker count always give the
same shards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness._errors import HarnessError

DURATIONS_FILE = ".harness-durations.json"
_XDIST_SUFFIX = re.compile(r"@[^@\[\]/:]+$")  # `@group`, which xdist's loadgroup appends


@dataclass(frozen=True, order=True)
class Shard:
    """Shard `index` of `count` (both from 1)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse(spec: str) -> Shard:
    """`2/3` as a Shard; anything else is a one-line HarnessError."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", spec)
    if not match:
        raise HarnessError(f"--harness-shard {spec!r}: give I/N, as in 1/3")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise HarnessError(
            f"--harness-shard {spec}: I must be between 1 and N (shards are 1/{max(count, 1)} "
            f"to {max(count, 1)}/{max(count, 1)})"
        )
    return Shard(index, count)


def plain_nodeid(nodeid: str) -> str:
    """The test's id without the `@group` xdist's loadgroup appends to it."""
    return _XDIST_SUFFIX.sub("", nodeid)


def durations_path(chosen: str | None, root: Path) -> Path:
    """The durations file a run balances by: `--harness-durations`, else the one in `root`."""
    return Path(chosen) if chosen else root / DURATIONS_FILE


def load_durations(path: Path) -> dict[str, float]:
    """{test id: seconds} from a durations file; none yet: empty."""
    if not path.is_file():
        return {}
    fix = "fix or delete it, then `harness durations update REPORT_DIR…` writes it anew"
    try:
        data = json.loads(path.read_text())
        durations = data["durations"]
        return {str(k): float(v) for k, v in durations.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise HarnessError(f"durations file {path} does not parse ({error}): {fix}") from None


def write_durations(path: Path, durations: Mapping[str, float]) -> None:
    """The durations file, sorted by test id (one test a line, for small diffs)."""
    lines = [f"  {json.dumps(k)}: {round(v, 3)}" for k, v in sorted(durations.items())]
    body = ",\n".join(lines)
    path.write_text('{"version": 1, "durations": {\n' + body + "\n}}\n")


def recorded(reports: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Each test's duration in run reports (later reports win); skipped tests say nothing."""
    found: dict[str, float] = {}
    for report in reports:
        for test in report.get("tests", []):
            if test.get("outcome") in ("passed", "failed", "error", "xfailed", "xpassed"):
                found[plain_nodeid(str(test["nodeid"]))] = float(test["duration"])
    return found


@dataclass
class Group:
    """Tests that land on one shard together, and what they are expected to take."""

    key: str
    nodeids: list[str] = field(default_factory=list)
    known: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(self.known)


def plan(
    groups: Sequence[Group], count: int, durations: Mapping[str, float], workers: int = 1
) -> list[list[Group]]:
    """The groups of each shard. Each shard runs its groups on `workers` xdist workers: a timed
    group, longest first, goes to the shard whose longest worker would end soonest with it on
    its least-loaded worker (ties: the lesser load, then the lower index). Untimed groups then go
    one by one to the shard with the fewest of them (ties: the lesser load, the lower index)."""
    for group in groups:  # by plain id: xdist's loadgroup may have renamed them already
        plain = [plain_nodeid(n) for n in group.nodeids]
        group.known = [durations[p] for p in plain if p in durations]
    shards: list[list[Group]] = [[] for _ in range(count)]
    lanes = [[0.0] * max(workers, 1) for _ in range(count)]
    unknown = [0] * count

    def ending(i: int, seconds: float) -> float:
        busy = sorted(lanes[i])
        busy[0] += seconds
        return max(busy)

    timed = sorted((g for g in groups if g.known), key=lambda g: (-g.seconds, g.key))
    for group in timed:
        chosen = min(range(count), key=lambda i: (ending(i, group.seconds), sum(lanes[i]), i))
        shards[chosen].append(group)
        least = lanes[chosen].index(min(lanes[chosen]))
        lanes[chosen][least] += group.seconds
    for group in sorted((g for g in groups if not g.known), key=lambda g: g.key):
        chosen = min(range(count), key=lambda i: (unknown[i], sum(lanes[i]), i))
        shards[chosen].append(group)
        unknown[chosen] += len(group.nodeids)
    return shards


def group_key(nodeid: str, xdist_group: str | None, exclusive: bool) -> str:
    """What keeps a test with others: its xdist group, its module's exclusive section, or
    nothing (its own id)."""
    if xdist_group:
        return f"xdist_group:{xdist_group}"
    if exclusive:
        return f"exclusive_stack:{nodeid.split('::', 1)[0]}"
    return nodeid


def select(
    tests: Sequence[tuple[str, str]],
    shard: Shard,
    durations: Mapping[str, float],
    workers: int = 1,
) -> set[str]:
    """The test ids of `shard`, from every selected test's (id, group key) in collection order,
    for a run on `workers` xdist workers."""
    groups: dict[str, Group] = {}
    for nodeid, key in tests:
        groups.setdefault(key, Group(key)).nodeids.append(nodeid)
    planned = plan(list(groups.values()), shard.count, durations, workers)
    return {nodeid for group in planned[shard.index - 1] for nodeid in group.nodeids}
