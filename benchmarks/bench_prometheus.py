"""Time from a numbering gap written to Redis to its alert firing in a real Prometheus, and from
the repair to the alert resolving: the studio (examples/studio) scraped every second, its
EpisodeNumberGap rule evaluated every second.

    make studio-venv   # the studio's venv: this harness and the studio installed
    $STUDIO_VENV/bin/python benchmarks/bench_prometheus.py [--rounds N]

The whole studio stack starts (the studio needs every backend). Prints the figures and writes
benchmarks/results/prometheus.json. Expected: firing within scrape + evaluation interval
(<= ~2 s at 1 s each), plus the 0.1 s the wait polls at.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
import redis
from _results import publish

STUDIO = Path(__file__).resolve().parents[1] / "examples" / "studio"
os.environ["HARNESS_PROJECT_ROOT"] = str(STUDIO)  # its [tool.mediastack-harness] config

from harness import _labels  # noqa: E402  (after the project root is chosen)
from harness._prometheus import Prometheus  # noqa: E402
from harness._stack import Stack, new_project_name  # noqa: E402


def _round(api: httpx.Client, store: redis.Redis, prometheus: Prometheus) -> dict[str, float]:
    project = api.post("/projects", json={"name": "bench"}).json()["id"]
    episodes = [
        api.post(f"/projects/{project}/episodes", json={"title": f"e{n}"}).json()["id"]
        for n in range(3)
    ]
    series = f'studio_episode_number_gaps{{project="{project}"}}'
    prometheus.wait_for_sample(series, newer_than=time.time())
    index = f"studio:project:{project}:episodes"
    labels = {"project": project}
    written = time.monotonic()
    store.zrem(index, episodes[1])
    prometheus.wait_for_alert("EpisodeNumberGap", labels=labels, timeout=60)
    fired = time.monotonic()
    store.zadd(index, {episodes[1]: 2})
    prometheus.wait_for_alert("EpisodeNumberGap", "inactive", labels=labels, timeout=60)
    resolved = time.monotonic()
    return {"gap_to_firing_s": fired - written, "repair_to_resolved_s": resolved - fired}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    stack = Stack(new_project_name(), owner=_labels.owner_token())
    began = time.monotonic()
    try:
        stack.up()
        up_s = time.monotonic() - began
        address = stack.address("redis")
        store = redis.Redis(host=address.host, port=address.port, db=0, decode_responses=True)
        prometheus = Prometheus(stack.address("prometheus").url)
        with httpx.Client(base_url=stack.address("studio").url, timeout=30) as api:
            samples = [_round(api, store, prometheus) for _ in range(rounds)]
        prometheus.close()
    finally:
        stack.down()
    figures: dict[str, object] = {"rounds": rounds, "stack_up_s": round(up_s, 1)}
    for key in ("gap_to_firing_s", "repair_to_resolved_s"):
        values = sorted(sample[key] for sample in samples)
        figures[key] = {
            "p50": round(statistics.median(values), 3),
            "min": round(values[0], 3),
            "max": round(values[-1], 3),
        }
    publish("prometheus", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
