"""The self-contained HTML report, for a person: summary, failures, timeline, tests (faults as
text), then latency and resources; inline SVG and base64-embedded PNG plots, nothing external."""

from __future__ import annotations

from html import escape
from typing import Any

from harness._optional import MissingExtra, require
from harness.reports import _markdown as markdown
from harness.reports import _text
from harness.reports import _timeline as timeline

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
.failed, .error { color: #b00; } .passed { color: #080; } .skipped { color: #888; }
pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; max-height: 20em; }
.failure { border-left: 4px solid #d32f2f; padding: 0.2em 1em; margin: 1em 0; }
.cause { font-family: monospace; color: #b00; font-size: 1.05em; }
svg .lane, svg .axis { font: 12px system-ui, sans-serif; fill: #444; }
svg .grid { stroke: #eee; } svg .exclusive { fill: #7e57c2; fill-opacity: 0.15; }
svg .fault { fill: #ff9800; }
svg .hit { fill: #6a1b9a; stroke: #fff; stroke-width: 0.5; }
.legend span { display: inline-block; width: 1em; height: 0.8em; margin: 0 0.3em 0 1em; }
"""
SLOWEST = 10
TRACEBACK_LINES = 40


def _table(header: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        f'<tr class="{escape(classes[i]) if classes else ""}">'
        + "".join(f"<td>{escape(v)}</td>" for v in row)
        + "</tr>"
        for i, row in enumerate(rows)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(png: str | None, alt: str) -> str:
    return f'<img src="data:image/png;base64,{png}" alt="{escape(alt)}">' if png else ""


def _summary(report: dict[str, Any]) -> list[str]:
    summary, tests = report["summary"], report["tests"]
    counts = ", ".join(f"{n} {k}" for k, n in summary.items() if k != "total")
    slowest = sorted(tests, key=lambda t: t["duration"], reverse=True)[:SLOWEST]
    return [
        '<section id="summary"><h2>Summary</h2>',
        f"<p>{summary['total']} tests ({escape(counts or 'none')}) "
        f"in {report['duration']:.1f} s</p>",
        "<h3>Slowest</h3>",
        _table(
            ["test", "duration (s)", "worker"],
            [[t["nodeid"], f"{t['duration']:.2f}", t.get("worker", "-")] for t in slowest],
        ),
        "</section>",
    ]


def _failures(report: dict[str, Any], logs: dict[str, dict[str, str]]) -> list[str]:
    failed = [t for t in report["tests"] if t["outcome"] in ("failed", "error")]
    if not failed:
        return []
    parts = [f'<section id="failures"><h2>Failures ({len(failed)})</h2>']
    for test in failed:
        excerpt = "\n".join((test.get("message") or "").splitlines()[-TRACEBACK_LINES:])
        parts += [
            f'<div class="failure"><h3>{escape(test["nodeid"])}</h3>',
            f'<p class="cause">{escape(_text.cause(test.get("message")) or "?")}</p>',
            f"<p>{escape(test['outcome'])} on {escape(test.get('worker', '?'))}"
            f" after {test['duration']:.2f} s</p>",
            f"<details open><summary>traceback (last {TRACEBACK_LINES} lines)</summary>"
            f"<pre>{escape(excerpt)}</pre></details>",
        ]
        if test["faults"]:
            items = "".join(f"<li>{escape(_text.fault(f))}</li>" for f in test["faults"])
            parts.append(f"<h4>Its faults</h4><ul>{items}</ul>")
        events = test.get("events", [])
        if events:
            items = "".join(
                f"<li>+{float(e['time']) - test['start']:.2f} s {escape(_text.event(e))}</li>"
                for e in events
            )
            parts.append(f"<h4>Stack events during it ({len(events)})</h4><ul>{items}</ul>")
        for service, text in sorted(logs.get(test["nodeid"], {}).items()):
            parts.append(
                f"<details><summary>log: {escape(service)}</summary><pre>{escape(text)}</pre>"
                "</details>"
            )
        parts.append("</div>")
    parts.append("</section>")
    return parts


def _flaky(report: dict[str, Any]) -> list[str]:
    flaky = report.get("flaky") or []
    if not flaky:
        return []
    rows = [[f["nodeid"], f["reason"], " ".join(f["recent"])] for f in flaky]
    return [
        f'<section id="flaky"><h2>Flaky ({len(flaky)})</h2>',
        "<p>Passed and failed on one commit, or flipped more than once in the kept runs. "
        "Not retried: shown.</p>",
        _table(["test", "why", "recent outcomes (oldest first)"], rows),
        "</section>",
    ]


def _shards(report: dict[str, Any]) -> list[str]:
    if not report.get("shards"):
        return []
    return [
        f'<section id="shards"><h2>Shards ({len(report["shards"])})</h2>',
        _table(["shard", "run", "tests", "outcomes", "wall s"], markdown.shard_rows(report)),
        "</section>",
    ]


def _timeline(report: dict[str, Any]) -> list[str]:
    svg = timeline.render(report)
    if not svg:
        return []
    legend = "".join(
        f'<span style="background:{color}"></span>{escape(name)}'
        for name, color in [
            ("passed", timeline.COLORS["passed"]),
            ("failed", timeline.COLORS["failed"]),
            ("skipped", timeline.COLORS["skipped"]),
            ("fault", "#ff9800"),
            ("exclusive section", "rgba(126,87,194,0.3)"),
        ]
    )
    return [
        f'<section id="timeline-section"><h2>Timeline</h2><p class="legend">{legend}</p>',
        svg,
        "</section>",
    ]


def render(report: dict[str, Any], logs: dict[str, dict[str, str]] | None = None) -> str:
    """The whole report as one HTML page with no external resources."""
    try:  # matplotlib only when a report is drawn; without it, the report says what draws plots
        plots = require("harness.reports._plots", "plots", "plotting in the HTML report")
        no_plots = ""
    except MissingExtra as missing:
        plots, no_plots = None, f"<p>{escape(str(missing))}</p>"
    title = f"{len(report['shards'])} shards merged" if report.get("shards") else "run"
    parts = [f"<h1>mediastack-harness {title} {escape(report['run'])}</h1>"]
    parts += _summary(report)
    parts += _failures(report, logs or {})
    parts += _flaky(report)
    parts += _shards(report)
    parts += _timeline(report)
    tests = report["tests"]
    lane = "lane" if report.get("shards") else "worker"
    parts.append("<h2>Tests</h2>")
    parts.append(
        _table(
            ["test", "outcome", lane, "duration (s)", "faults"],
            [
                [
                    t["nodeid"],
                    t["outcome"],
                    t.get("worker", "-"),
                    f"{t['duration']:.3f}",
                    "; ".join(_text.fault(f) for f in t["faults"]) or "-",
                ]
                for t in tests
            ],
            [t["outcome"] for t in tests],
        )
    )
    rows = markdown.latency_rows(report)
    if rows:
        parts.append("<h2>Latency (ms)</h2>")
        parts.append(_table(["backend", "faults", "samples", "p50", "p95", "p99"], rows))
        for backend, samples in report.get("latency_samples_ms", {}).items():
            if plots:
                parts.append(_img(plots.latency_plot(backend, samples), f"{backend} latency"))
        parts.append(no_plots)
    if report["resources"]:
        parts.append("<h2>Containers</h2>")
        parts.append(
            _table(
                ["container", "service", "peak CPU %", "peak MB", "mean MB"],
                markdown.resource_rows(report),
            )
        )
        resources = report["resources"]
        if plots:
            parts.append(_img(plots.resource_plot(resources, "memory_mb", "memory (MB)"), "memory"))
            parts.append(_img(plots.resource_plot(resources, "cpu_percent", "CPU (%)"), "CPU"))
        parts.append(no_plots)
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>run {escape(report['run'])}</title><style>{STYLE}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )
