"""The self-contained HTML report: tables and base64-embedded PNG plots."""

from __future__ import annotations

from html import escape
from typing import Any

from harness.reports import markdown

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
.failed, .error { color: #b00; } .passed { color: #080; } .skipped { color: #888; }
pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; max-height: 20em; }
"""


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


def render(report: dict[str, Any]) -> str:
    """The whole report as one HTML page with no external resources."""
    from harness.reports import plots  # matplotlib only when a report is drawn

    parts = [f"<h1>mediastack-harness run {escape(report['run'])}</h1>"]
    summary = report["summary"]
    parts.append(
        "<p>"
        + escape(", ".join(f"{n} {k}" for k, n in summary.items()))
        + f" in {report['duration']:.1f} s</p>"
    )
    tests = report["tests"]
    parts.append("<h2>Tests</h2>")
    parts.append(
        _table(
            ["test", "outcome", "duration (s)", "faults"],
            [
                [
                    t["nodeid"],
                    t["outcome"],
                    f"{t['duration']:.3f}",
                    "; ".join(str(f) for f in t["faults"]) or "-",
                ]
                for t in tests
            ],
            [t["outcome"] for t in tests],
        )
    )
    for test in tests:
        if test["outcome"] in ("failed", "error") and test.get("message"):
            parts.append(f"<h3>{escape(test['nodeid'])}</h3><pre>{escape(test['message'])}</pre>")
    rows = markdown.latency_rows(report)
    if rows:
        parts.append("<h2>Latency (ms)</h2>")
        parts.append(_table(["backend", "faults", "samples", "p50", "p95", "p99"], rows))
        for backend, samples in report.get("latency_samples_ms", {}).items():
            parts.append(_img(plots.latency_plot(backend, samples), f"{backend} latency"))
    if report["resources"]:
        parts.append("<h2>Containers</h2>")
        parts.append(
            _table(
                ["container", "service", "peak CPU %", "peak MB", "mean MB"],
                markdown.resource_rows(report),
            )
        )
        resources = report["resources"]
        parts.append(_img(plots.resource_plot(resources, "memory_mb", "memory (MB)"), "memory"))
        parts.append(_img(plots.resource_plot(resources, "cpu_percent", "CPU (%)"), "CPU"))
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>run {escape(report['run'])}</title><style>{STYLE}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )
