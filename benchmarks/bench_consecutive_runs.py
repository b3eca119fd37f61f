"""The integration suite run N times in a row: wall time, outcome, failures and leftovers per run.

    python benchmarks/bench_consecutive_runs.py [--runs 10] [-- COMMAND ...]

COMMAND defaults to `make test-integration`. After each run the script reads the run's own
report (`reports/<run>/report.json`, written by the harness plugin; the run is the one the
command's output names first, not the inner runs its tests start) for its outcomes and lists
every labeled container, network and volume left behind: anything of the runs started meanwhile,
or of any run whose owning process is gone. Prints a Markdown table as it goes and writes
benchmarks/results/consecutive_runs.json. A failure in the series is a bug to find, not a retry.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import docker

from harness import _labels

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
REPORTS = ROOT / "reports"


RUN_LINE = re.compile(rb"mediastack-harness: run (hx-[0-9a-f]+)")


def _new_reports(since: float) -> list[dict[str, Any]]:
    """Reports of the runs that started after `since`, oldest first."""
    found = []
    for path in REPORTS.glob("*/report.json") if REPORTS.is_dir() else []:
        report = json.loads(path.read_text())
        if report.get("started", 0) >= since:
            found.append(report)
    return sorted(found, key=lambda report: report["started"])


def _leftovers(runs: set[str]) -> list[str]:
    """Labeled containers, networks and volumes of these runs, or of runs whose owner is gone."""
    client = docker.from_env()
    label = {"label": _labels.RUN}
    objects: list[tuple[str, str, dict[str, str]]] = []
    for container in client.containers.list(all=True, filters=label):
        objects.append(("container", container.name, container.labels))
    for network in client.networks.list(filters=label):
        objects.append(("network", network.name, network.attrs.get("Labels") or {}))
    for volume in client.volumes.list(filters=label):
        objects.append(("volume", volume.name, volume.attrs.get("Labels") or {}))
    client.close()
    return [
        f"{kind} {name}"
        for kind, name, labels in objects
        if labels.get(_labels.RUN) in runs or not _labels.owner_alive(labels.get(_labels.OWNER, ""))
    ]


def one_run(index: int, command: list[str]) -> dict[str, Any]:
    """Run the suite once; its wall time, exit code, outcome counts, failures and leftovers."""
    started = time.time()
    completed = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wall = time.time() - started
    log = RESULTS / f"consecutive_run_{index}.log"
    log.write_bytes(completed.stdout)
    reports = _new_reports(started)
    named = RUN_LINE.search(completed.stdout)
    suite = [report for report in reports if named and report["run"] == named[1].decode()]
    tests = [test for report in suite for test in report["tests"]]
    counts: dict[str, int] = {}
    for test in tests:
        counts[test["outcome"]] = counts.get(test["outcome"], 0) + 1
    failures = [test["nodeid"] for test in tests if test["outcome"] in ("failed", "error")]
    leftovers = _leftovers({report["run"] for report in reports})
    clean = completed.returncode == 0 and not failures and not leftovers
    return {
        "run": index,
        "harness_run": suite[0]["run"] if suite else None,
        "inner_runs": [report["run"] for report in reports if report not in suite],
        "wall_s": round(wall, 1),
        "exit_code": completed.returncode,
        "outcome": "clean" if clean else "FAILED",
        "counts": counts,
        "failures": failures,
        "leftovers": leftovers,
        "log": str(log.relative_to(ROOT)),
    }


def _row(result: dict[str, Any]) -> str:
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(result["counts"].items()))
    failures = "<br>".join(result["failures"]) or "-"
    return (
        f"| {result['run']} | {result['wall_s']:.0f} s "
        f"| {result['outcome']} (exit {result['exit_code']}) | {counts or 'no report'} "
        f"| {failures} | {len(result['leftovers'])} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("command", nargs="*", default=["make", "test-integration"])
    args = parser.parse_args()
    if args.runs < 1:
        print("--runs must be at least 1", file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    print("| run | wall | outcome | tests | failures | leftovers |")
    print("|---|---|---|---|---|---|", flush=True)
    results = []
    for index in range(1, args.runs + 1):
        result = one_run(index, args.command)
        results.append(result)
        print(_row(result), flush=True)
        (RESULTS / "consecutive_runs.json").write_text(
            json.dumps({"command": args.command, "runs": results}, indent=2) + "\n"
        )
    clean = sum(result["outcome"] == "clean" for result in results)
    walls = [result["wall_s"] for result in results]
    print(f"\n{clean}/{len(results)} clean; wall {min(walls):.0f}-{max(walls):.0f} s")
    return 0 if clean == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
