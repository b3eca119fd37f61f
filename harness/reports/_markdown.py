"""The Markdown summary: counts, failed tests, latency per backend, peak resources."""

from __future__ import annotations

from typing import Any

from harness.reports import _text


def _ms(stats: dict[str, Any], key: str) -> str:
    return f"{stats[key]:.1f}" if stats.get("count") else "-"


def latency_rows(report: dict[str, Any]) -> list[list[str]]:
    """backend, condition, count, p50, p95, p99 (ms) for each backend with samples."""
    rows = []
    for backend, entry in report["latency"].items():
        for condition in ("without_faults", "with_faults"):
            stats = entry[condition]
            if stats.get("count"):
                rows.append(
                    [
                        backend,
                        condition.replace("_", " "),
                        str(stats["count"]),
                        *(_ms(stats, f"p{q}") for q in (50, 95, 99)),
                    ]
                )
    return rows


def resource_rows(report: dict[str, Any]) -> list[list[str]]:
    """container, service, peak CPU %, peak and mean memory (MB)."""
    return [
        [
            name,
            entry["service"],
            f"{entry['cpu_percent_max']:.1f}",
            f"{entry['memory_mb_max']:.1f}",
            f"{entry['memory_mb_mean']:.1f}",
        ]
        for name, entry in report["resources"].items()
    ]


def shard_rows(report: dict[str, Any]) -> list[list[str]]:
    """shard, run, tests, outcome counts, wall time of each merged shard."""
    return [
        [
            entry["shard"],
            entry["run"],
            str(entry["summary"]["total"]),
            ", ".join(f"{n} {k}" for k, n in entry["summary"].items() if k != "total") or "none",
            f"{entry['duration']:.1f}",
        ]
        for entry in report["shards"]
    ]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    def cell(value: str) -> str:
        return value.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def render(report: dict[str, Any]) -> str:
    """The summary as GitHub-flavoured Markdown: the failures and their causes first."""
    summary = report["summary"]
    counts = ", ".join(f"{n} {k}" for k, n in summary.items() if k != "total")
    failed = [t for t in report["tests"] if t["outcome"] in ("failed", "error")]
    verdict = f"{len(failed)} failed" if failed else "all passed"
    title = f"{len(report['shards'])} shards merged" if report.get("shards") else "run"
    lines = [f"## mediastack-harness {title} `{report['run']}`: {verdict}", ""]
    if failed:
        lines += ["### Failed", ""]
        for test in failed:
            lines.append(f"- `{test['nodeid']}` ({test['outcome']}, {test.get('worker', '?')})")
            lines.append(f"  - cause: `{_text.cause(test.get('message')) or '?'}`")
            faults = "; ".join(_text.fault(f) for f in test["faults"])
            others = [e for e in test.get("events", []) if e.get("worker") != test.get("worker")]
            if faults:
                lines.append(f"  - its faults: {faults}")
            if others:
                lines.append(f"  - meanwhile on the stack: {len(others)} events of other workers")
            if test["logs"]:
                lines.append(f"  - logs: {', '.join(test['logs'])}")
        lines.append("")
    flaky = report.get("flaky") or []
    if flaky:
        lines += [f"### Flaky ({len(flaky)})", ""]
        lines += [
            f"- `{f['nodeid']}`: {f['reason']} (recent, oldest first: {' '.join(f['recent'])})"
            for f in flaky
        ]
        lines.append("")
    lines += [f"{summary['total']} tests ({counts or 'none'}) in {report['duration']:.1f} s", ""]
    if report.get("shards"):
        lines += ["### Shards", ""]
        lines += _table(["shard", "run", "tests", "outcomes", "wall s"], shard_rows(report))
        lines.append("")
    rows = latency_rows(report)
    if rows:
        lines += ["### Latency (ms)", ""]
        lines += _table(["backend", "faults", "samples", "p50", "p95", "p99"], rows)
        lines.append("")
    rows = resource_rows(report)
    if rows:
        lines += ["### Containers", ""]
        lines += _table(["container", "service", "peak CPU %", "peak MB", "mean MB"], rows)
        lines.append("")
    return "\n".join(lines)
