"""The run's timeline as inline SVG: a lane per worker, tests as bars colored by outcome, fault
windows on the lane of the worker that applied them with a dot for each request an HTTP fault
touched, exclusive sections across every lane."""

from __future__ import annotations

from html import escape
from typing import Any

from harness.reports import _text

WIDTH, LANE, LABEL, TOP = 1100, 34, 70, 24
COLORS = {"passed": "#4caf50", "failed": "#d32f2f", "error": "#d32f2f", "skipped": "#bdbdbd"}


def _windows(events: list[dict[str, Any]], opened: str, closed: str, key: Any) -> list[Any]:
    """(start, end, first event) of every opened..closed pair; still open: until the last event."""
    last = max((float(e["time"]) for e in events), default=0.0)
    open_at: dict[Any, dict[str, Any]] = {}
    windows = []
    for event in events:
        if event.get("kind") == opened:
            open_at[key(event)] = event
        elif event.get("kind") == closed and key(event) in open_at:
            began = open_at.pop(key(event))
            windows.append((float(began["time"]), float(event["time"]), began))
    windows += [(float(e["time"]), last, e) for e in open_at.values()]
    return windows


def fault_windows(events: list[dict[str, Any]]) -> list[Any]:
    """Every fault's (applied, cleared, event)."""

    def key(event: dict[str, Any]) -> Any:
        fields = {k: v for k, v in event.items() if k not in ("time", "kind", "test")}
        return tuple(sorted((k, str(v)) for k, v in fields.items()))

    return _windows(events, "fault applied", "fault cleared", key)


def exclusive_windows(events: list[dict[str, Any]]) -> list[Any]:
    """Every exclusive section's (entered, left, event)."""
    return _windows(events, "exclusive entered", "exclusive left", lambda e: e.get("test"))


def render(report: dict[str, Any]) -> str:
    """The SVG element ('' when no test has a start and an end)."""
    tests = [t for t in report["tests"] if t.get("start") is not None and t.get("end")]
    if not tests:
        return ""
    events = report.get("events", [])
    workers = sorted({t.get("worker", "main") for t in tests} | {e["worker"] for e in events})
    begin = min([t["start"] for t in tests] + [float(e["time"]) for e in events])
    end = max([t["end"] for t in tests] + [float(e["time"]) for e in events])
    span = max(end - begin, 1e-6)
    height = TOP + LANE * len(workers) + 8

    def x(when: float) -> float:
        return LABEL + (when - begin) / span * (WIDTH - LABEL - 10)

    def lane(worker: str) -> int:
        return TOP + LANE * workers.index(worker)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="timeline" width="100%" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        'aria-label="timeline of tests, faults and exclusive sections per worker">',
        f'<text x="{LABEL}" y="14" class="axis">0 s</text>',
        f'<text x="{WIDTH - 10}" y="14" text-anchor="end" class="axis">{span:.1f} s</text>',
    ]
    for worker in workers:
        y = lane(worker)
        parts.append(
            f'<text x="4" y="{y + LANE / 2 + 4}" class="lane" data-lane="{escape(worker)}">'
            f"{escape(worker)}</text>"
        )
        parts.append(f'<line x1="{LABEL}" x2="{WIDTH - 10}" y1="{y}" y2="{y}" class="grid"/>')
    for start, stop, event in exclusive_windows(events):
        width = max(x(stop) - x(start), 1)
        title = escape(f"exclusive: {event.get('test')}")
        parts.append(
            f'<rect class="exclusive" x="{x(start):.1f}" y="{TOP}" width="{width:.1f}" '
            f'height="{LANE * len(workers)}"><title>{title}</title></rect>'
        )
    for test in tests:
        y, color = lane(test.get("worker", "main")), COLORS.get(test["outcome"], "#9e9e9e")
        width = max(x(test["end"]) - x(test["start"]), 1.5)
        title = escape(f"{test['nodeid']} — {test['outcome']}, {test['end'] - test['start']:.2f} s")
        parts.append(
            f'<rect class="test {escape(test["outcome"])}" x="{x(test["start"]):.1f}" '
            f'y="{y + 8}" width="{width:.1f}" height="{LANE - 12}" fill="{color}">'
            f"<title>{title}</title></rect>"
        )
    for start, stop, event in fault_windows(events):
        y = lane(event["worker"]) if event["worker"] in workers else TOP
        width = max(x(stop) - x(start), 2)
        parts.append(
            f'<rect class="fault" x="{x(start):.1f}" y="{y + 2}" width="{width:.1f}" height="5">'
            f"<title>{escape(_text.fault(event))}</title></rect>"
        )
    for event in events:
        if event.get("kind") == HIT:
            y = lane(event["worker"]) if event["worker"] in workers else TOP
            parts.append(
                f'<circle class="hit" cx="{x(float(event["time"])):.1f}" cy="{y + 4.5}" r="4">'
                f"<title>{escape(hit_text(event))}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


HIT = "http fault hit"  # a request an HTTP fault touched (harness.faults.http)


def hit_text(event: dict[str, Any]) -> str:
    """`litellm POST /chat/completions: 429 (status, rule r1)`."""
    result = event.get("status") if event.get("outcome") in ("complete", "answered") else None
    return (
        f"{event.get('service')} {event.get('method')} {event.get('path')}: "
        f"{result or event.get('outcome')} ({event.get('action')}, rule {event.get('rule')})"
    )
