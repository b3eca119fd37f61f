"""The integration suite as 1, 2 and 3 shards, each shard a whole run with its own stack, run one
after another on this machine; then each split's shards merged.

    python benchmarks/bench_shards.py [--shards 1,2,3] [--suite tests/integration]

For each split: every shard's wall time (its stack's start and teardown included), the balance
(longest shard / mean of the shards; target ≤ 1.15), the wall time projected on N runners (the
longest shard, which includes its own setup) against the unsharded run, and the merged report's
test ids and outcome counts against the unsharded run's (identical). The shards are balanced by
the checkout's .harness-durations.json. Writes results/shards.json, and keeps every run's report
and each split's merged report in results/shards/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._results import RESULTS, publish  # noqa: E402
from harness._shards import plain_nodeid  # noqa: E402

BIN = Path(sys.executable).parent


def _shard(suite: str, index: int, count: int, reports: Path) -> dict[str, Any]:
    """Run one shard as CI would; its wall time, exit code and report directory."""
    command = [
        str(BIN / "pytest"),
        "-n",
        "auto",
        "--dist",
        "loadgroup",
        suite,
        "-p",
        "no:cacheprovider",
        "-q",
        f"--harness-shard={index}/{count}",
        f"--harness-reports={reports}",
    ]
    before = set(reports.glob("*"))
    began = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - began
    made = sorted(set(reports.glob("*")) - before)
    tail = done.stdout.strip().splitlines()[-1:] if done.stdout else []
    print(f"shard {index}/{count}: {wall:.1f} s, exit {done.returncode}: {tail}", flush=True)
    return {
        "shard": f"{index}/{count}",
        "wall_s": round(wall, 1),
        "exit": done.returncode,
        "report": str(made[-1]) if made else None,
    }


def _merge(directory: Path, out: Path) -> dict[str, Any]:
    subprocess.run(
        [str(BIN / "harness"), "report", "merge", str(directory), "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return dict(json.loads((out / "report.json").read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", default="1,2,3")
    parser.add_argument("--suite", default="tests/integration")
    args = parser.parse_args()
    counts = [int(n) for n in args.shards.split(",")]
    os.environ.pop("HARNESS_REPORTS_DIR", None)
    splits: dict[str, Any] = {}
    merged_reports: dict[int, dict[str, Any]] = {}
    scratch = RESULTS / "shards"  # the runs' and the merged reports, kept for a look
    shutil.rmtree(scratch, ignore_errors=True)
    for count in counts:
        reports = scratch / f"split-{count}"
        reports.mkdir(parents=True)
        shards = [_shard(args.suite, i, count, reports) for i in range(1, count + 1)]
        merged = _merge(reports, scratch / f"merged-{count}")
        merged_reports[count] = merged
        walls = [s["wall_s"] for s in shards]
        splits[str(count)] = {
            "shards": shards,
            "balance_longest_over_mean": round(max(walls) / statistics.mean(walls), 3),
            "projected_wall_s_on_n_runners": max(walls),
            "sequential_wall_s_here": round(sum(walls), 1),
            "merged_summary": merged["summary"],
        }
    base = merged_reports[counts[0]]
    base_ids = {plain_nodeid(t["nodeid"]) for t in base["tests"]}
    for count in counts:
        merged = merged_reports[count]
        ids = {plain_nodeid(t["nodeid"]) for t in merged["tests"]}
        splits[str(count)]["same_tests_as_first"] = ids == base_ids
        splits[str(count)]["same_counts_as_first"] = merged["summary"] == base["summary"]
        first = splits[str(counts[0])]["projected_wall_s_on_n_runners"]
        projected = splits[str(count)]["projected_wall_s_on_n_runners"]
        splits[str(count)]["speedup_vs_first"] = round(first / projected, 2)
    publish(
        "shards",
        {
            "suite": args.suite,
            "machine": f"{os.cpu_count()} cores, shards run one after another",
            "durations_file": ".harness-durations.json",
            "splits": splits,
        },
    )


if __name__ == "__main__":
    main()
