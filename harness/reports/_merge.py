"""Many runs' reports (a suite's shards) as one: every test once, each lane named by its shard.

The merged report has a run report's shape, so every writer renders it as it renders a run: its
tests carry their shard and their worker becomes `<shard> <worker>`, the events of every stack
sit on one clock (their own timestamps), and `shards` lists what was merged. The same inputs
always give the same output.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness._errors import HarnessError
from harness.reports import REPORT_JSON
from harness.reports import _allure as allure
from harness.reports import _latency as latency
from harness.reports import _writer as writer


def find(paths: Sequence[Path]) -> list[Path]:
    """The report directories in `paths`: each one itself, or the runs anywhere under it (as
    downloaded artifacts nest them)."""
    found: list[Path] = []
    for path in paths:
        if (path / REPORT_JSON).is_file():
            found.append(path)
            continue
        runs = sorted(p.parent for p in path.rglob(REPORT_JSON))
        if not path.is_dir() or not runs:
            raise HarnessError(f"{path}: no {REPORT_JSON} in it or in the directories under it")
        found += runs
    return sorted(dict.fromkeys(p.resolve() for p in found))


def load(directory: Path) -> dict[str, Any]:
    """One run's report, or a one-line error naming the file."""
    path = directory / REPORT_JSON
    try:
        report = json.loads(path.read_text())
        if not isinstance(report.get("run"), str) or not isinstance(report.get("tests"), list):
            raise ValueError("no run or tests in it")
    except (OSError, ValueError, AttributeError) as error:
        raise HarnessError(f"{path} is not a run report ({error})") from None
    return dict(report)


def _label(report: dict[str, Any]) -> str:
    return str(report.get("shard") or report["run"])


def _order(report: dict[str, Any]) -> tuple[int, int, str]:
    shard = str(report.get("shard") or "")
    index, _, count = shard.partition("/")
    if index.isdigit() and count.isdigit():
        return int(count), int(index), str(report["run"])
    return 1 << 30, 0, str(report["run"])


def merge(reports: Sequence[dict[str, Any]], allow_mixed: bool = False) -> dict[str, Any]:
    """One report of `reports`; overlapping shards, a test in two of them, or different
    commits (unless `allow_mixed`) are one-line errors."""
    if not reports:
        raise HarnessError("nothing to merge: name the shards' report directories")
    ordered = sorted(reports, key=_order)
    labels = [_label(r) for r in ordered]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise HarnessError(f"shard {twice[0]} is given twice: merge one report of each shard")
    splits = {str(r["shard"]).partition("/")[2] for r in ordered if r.get("shard")}
    if len(splits) > 1:
        raise HarnessError(
            f"the reports are of different splits ({', '.join(sorted(splits))} shards): merge the "
            "shards of one run of the suite"
        )
    plans = {json.dumps(r.get("shard_plan"), sort_keys=True) for r in ordered if r.get("shard")}
    if len(plans) > 1:  # each shard picked its tests from another plan: some may be in none
        raise HarnessError(
            f"the shards were planned differently ({'; '.join(sorted(plans))}): run every shard "
            "with the same -n and the same durations file"
        )
    commits = sorted({str(r.get("commit")) for r in ordered if r.get("commit")})
    if len(commits) > 1 and not allow_mixed:
        shown = ", ".join(c[:12] for c in commits)
        raise HarnessError(
            f"the reports are of different commits ({shown}): merge one commit's shards, "
            "or pass --allow-mixed"
        )
    where: dict[str, str] = {}
    tests: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    resources: dict[str, Any] = {}
    raw: dict[str, dict[str, list[float]]] = {}
    for report, label in zip(ordered, labels, strict=True):
        for test in report["tests"]:
            if test["nodeid"] in where:
                raise HarnessError(
                    f"{test['nodeid']} ran in {where[test['nodeid']]} and in {label}: the shards "
                    "overlap (were they planned from different durations files?)"
                )
            where[test["nodeid"]] = label
            lane = f"{label} {test.get('worker', 'main')}"
            tests.append(
                {
                    **test,
                    "shard": label,
                    "worker": lane,
                    "events": [_lane(e, label) for e in test.get("events", [])],
                }
            )
        events += [_lane(e, label) for e in report.get("events", [])]
        for name, entry in report.get("resources", {}).items():
            resources[name if name not in resources else f"{label} {name}"] = entry
        for backend, conditions in report.get("latency_samples_ms", {}).items():
            merged = raw.setdefault(backend, {"with_faults": [], "without_faults": []})
            for condition, values in conditions.items():
                merged.setdefault(condition, []).extend(values)
    expected = sum(len(r["tests"]) for r in ordered)
    if len(tests) != expected:  # every test of every shard, each once
        raise HarnessError(f"merged {len(tests)} tests of {expected}: a report is inconsistent")
    tests.sort(key=lambda t: t["nodeid"])
    events.sort(key=lambda e: (float(e["time"]), e["worker"], json.dumps(e, sort_keys=True)))
    counts: dict[str, int] = {}
    for test in tests:
        counts[test["outcome"]] = counts.get(test["outcome"], 0) + 1
    started = min(float(r["started"]) for r in ordered)
    finished = max(float(r["finished"]) for r in ordered)
    runs = [str(r["run"]) for r in ordered]
    return {
        "run": "merged-" + hashlib.sha256(" ".join(runs).encode()).hexdigest()[:12],
        "shard": None,
        "commit": commits[0] if len(commits) == 1 else None,
        "started": started,
        "finished": finished,
        "duration": round(finished - started, 3),
        "summary": {"total": len(tests), **dict(sorted(counts.items()))},
        "shards": [_shard_entry(r, label) for r, label in zip(ordered, labels, strict=True)],
        "tests": tests,
        "latency": {
            backend: {name: latency.stats(values) for name, values in conditions.items()}
            | {"operations": {}}
            for backend, conditions in sorted(raw.items())
        },
        "latency_samples_ms": dict(sorted(raw.items())),
        "resources": dict(sorted(resources.items())),
        "events": events,
        "flaky": [],
    }


def _lane(event: dict[str, Any], label: str) -> dict[str, Any]:
    return {**event, "worker": f"{label} {event.get('worker', 'main')}", "shard": label}


def _shard_entry(report: dict[str, Any], label: str) -> dict[str, Any]:
    return {
        "shard": label,
        "run": report["run"],
        "commit": report.get("commit"),
        "started": report["started"],
        "finished": report["finished"],
        "duration": report["duration"],
        "summary": report["summary"],
        "workers": sorted({str(t.get("worker", "main")) for t in report["tests"]}),
    }


def failure_logs(directory: Path, report: dict[str, Any]) -> dict[str, dict[str, str]]:
    """{test id: {service: log text}} of a run's failed tests, read back from its `logs/`."""
    found: dict[str, dict[str, str]] = {}
    for test in report["tests"]:
        for service in test.get("logs", []):
            path = writer.log_path(directory, test["nodeid"], service)
            if path.is_file():
                found.setdefault(test["nodeid"], {})[service] = path.read_text()
    return found


def merge_into(
    directories: Sequence[Path],
    out: Path,
    *,
    history: Path | None = None,
    keep: int = 20,
    allow_mixed: bool = False,
) -> tuple[dict[str, Any], list[str]]:
    """Merge the reports under `directories` into `out` (report.json, JUnit, Markdown, HTML,
    logs/, the runs' Allure results; with `history`, recorded there and the flaky tests
    flagged); the report and the writers' problems."""
    found = find(directories)
    if out.resolve() in found:
        raise HarnessError(f"--out {out} is one of the reports merged: write elsewhere")
    loaded = [load(directory) for directory in found]
    merged = merge(loaded, allow_mixed=allow_mixed)
    if history is not None:
        from harness.reports import _history

        merged["flaky"] = _history.flaky(_history.record(history, merged, keep))
    logs: dict[str, dict[str, str]] = {}
    for directory, report in zip(found, loaded, strict=True):
        logs |= failure_logs(directory, report)
    shutil.rmtree(out / "logs", ignore_errors=True)
    problems = writer.write_all(out, merged, logs)
    allure.gather(found, out)
    return merged, problems
