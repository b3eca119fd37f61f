"""The report's plots, drawn with matplotlib (Agg, no pyplot state) and returned as base64 PNG."""

from __future__ import annotations

import base64
import io
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _figure() -> Figure:
    figure = Figure(figsize=(7, 3.2))
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def latency_plot(backend: str, samples: dict[str, list[float]]) -> str | None:
    """Histogram of a backend's latencies (log-spaced ms), with and without faults."""
    import numpy as np

    values = [v for series in samples.values() for v in series if v > 0]
    if not values:
        return None
    low, high = min(values) / 1.1, max(values) * 1.1  # a range even when all samples are equal
    bins = np.geomspace(low, high, 40).tolist()
    figure = _figure()
    axes = figure.subplots()
    for condition, colour in (("without_faults", "tab:blue"), ("with_faults", "tab:red")):
        series = [v for v in samples.get(condition, []) if v > 0]
        if series:
            label = f"{condition.replace('_', ' ')} (n={len(series)})"
            axes.hist(series, bins=bins, alpha=0.6, color=colour, label=label)
    axes.set_xscale("log")
    axes.set_xlabel("latency (ms)")
    axes.set_ylabel("operations")
    axes.set_title(f"{backend}: latency distribution")
    axes.legend()
    return _png(figure)


def resource_plot(resources: dict[str, Any], key: str, label: str) -> str | None:
    """One line per container of `key` (cpu_percent or memory_mb) over the run's time."""
    drawn = False
    figure = _figure()
    axes = figure.subplots()
    for name, entry in resources.items():
        points = [(s["t"], s[key]) for s in entry["samples"] if s.get(key) is not None]
        if points:
            axes.plot(*zip(*points, strict=True), marker=".", label=entry["service"] or name)
            drawn = True
    if not drawn:
        return None
    axes.set_xlabel("seconds since the run started")
    axes.set_ylabel(label)
    axes.set_title(f"{label} per container")
    axes.legend(fontsize="small", ncol=2)
    return _png(figure)
