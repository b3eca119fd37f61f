"""Benchmark harness.data: items generated per second by each generator.

    .venv/bin/python benchmarks/bench_data.py [--seconds 2] [--max-items 5000]

ComfyUI graphs at each preset (from the mock's object_info), invalid graphs, episodes,
characters, embedding sets and Cablecast datasets; each loop is bounded in count and time.
Also the draws through a hypothesis strategy (`example()`-free: `find` on a never-true
predicate, bounded by max_examples). Writes benchmarks/results/bench_data.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import find, settings
from hypothesis.errors import NoSuchExample

from harness.data import (
    PRESETS,
    cablecast_dataset,
    catalog,
    characters,
    clustered_embeddings,
    comfyui_graph,
    episode,
    invalid_comfyui_graph,
    mock_object_info,
)
from harness.data.strategies import comfyui_graphs

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_data.json"


def rate(make: Callable[[int], Any], seconds: float, max_items: int) -> dict[str, Any]:
    """Call make(seed) for seeds 0, 1, ... until `seconds` pass or `max_items` are made."""
    start = time.perf_counter()
    count = 0
    sizes: list[int] = []
    while count < max_items and time.perf_counter() - start < seconds:
        item = make(count)
        sizes.append(len(item) if hasattr(item, "__len__") else 1)
        count += 1
    elapsed = time.perf_counter() - start
    return {
        "items": count,
        "seconds": round(elapsed, 3),
        "per_second": round(count / elapsed, 1),
        "mean_size": round(sum(sizes) / len(sizes), 1),
    }


def strategy_rate(preset: str, examples: int) -> dict[str, Any]:
    """Graphs per second drawn through the hypothesis strategy (no shrinking: never true)."""
    nodes = catalog(mock_object_info())
    start = time.perf_counter()
    with contextlib.suppress(NoSuchExample):
        find(
            comfyui_graphs(nodes, preset),
            lambda g: False,
            settings=settings(max_examples=examples, database=None, derandomize=True),
        )
    elapsed = time.perf_counter() - start
    return {
        "items": examples,
        "seconds": round(elapsed, 3),
        "per_second": round(examples / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per generator")
    parser.add_argument("--max-items", type=int, default=5000, help="items per generator, at most")
    parser.add_argument("--strategy-examples", type=int, default=100)
    args = parser.parse_args()
    nodes = catalog(mock_object_info())
    generators: dict[str, Callable[[int], Any]] = {
        **{f"comfyui_graph[{p}]": (lambda s, p=p: comfyui_graph(nodes, p, s)) for p in PRESETS},
        **{
            f"invalid_comfyui_graph[{p}]": (
                lambda s, p=p: invalid_comfyui_graph(nodes, None, p, s).prompt
            )
            for p in PRESETS
        },
        "episode": lambda s: episode(s).scenes,
        "characters[8]": lambda s: characters(s, 8),
        "clustered_embeddings[384d, 4x8]": lambda s: clustered_embeddings(s, 384, 4, 8).ids,
        "cablecast_dataset[40 shows]": lambda s: cablecast_dataset(s)["shows"],
    }
    results: dict[str, Any] = {}
    for name, make in generators.items():
        results[name] = rate(make, args.seconds, args.max_items)
        r = results[name]
        done = f"{r['items']} in {r['seconds']} s, mean size {r['mean_size']}"
        print(f"{name:36} {r['per_second']:>9} /s  ({done})")
    for preset in PRESETS:
        name = f"strategy comfyui_graphs[{preset}]"
        results[name] = strategy_rate(preset, args.strategy_examples)
        print(f"{name:36} {results[name]['per_second']:>9} /s  ({args.strategy_examples} draws)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "bench_data",
                "cpus": os.cpu_count(),
                "generators": results,
                "time": time.time(),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
