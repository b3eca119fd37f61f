"""Stack start-up, teardown and memory, measured side by side with raw `docker compose` in one run.

    python benchmarks/bench_stack.py [--rounds 3] [--cold]

Prints the figures and writes benchmarks/results/stack.json. Targets (2 cores): warm up-to-healthy
<= 20 s and <= 1.15x raw `docker compose up --wait`; teardown <= 10 s; stack memory <= 2 GB.
`--cold` also removes every stack image and times `harness images build --all` from nothing.

An adopter's merged stack is measured the same way, in a child process of its own (the project
configuration is read once per process): the packaged Redis plus one service under test of the
project's compose file (tests/integration/adopter_project's `web`), harness `Stack.up()` against
raw `docker compose up -d --wait` on the very same merged files.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import _docker, _paths
from harness import _images as images
from harness import _reaper as reaper
from harness._stack import Stack, new_project_name

RESULTS = Path(__file__).parent / "results"


def _timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


def _raw_compose(project: str, *args: str) -> None:
    subprocess.run(
        ["docker", "compose", "-p", project, "-f", str(_paths.compose_file()), *args],
        check=True,
        capture_output=True,
        env={
            "HARNESS_RUN_ID": project,
            "HARNESS_OWNER": "kept",
            "HARNESS_LITELLM_CONFIG": (_paths.stack_dir() / "config" / "litellm.yaml").read_text(),
            "PATH": "/usr/local/bin:/usr/bin:/bin",
        },
    )


def _memory_bytes(stack: Stack) -> int:
    total = 0
    for container in stack.containers().values():
        stats = container.stats(stream=False)
        usage = stats.get("memory_stats", {})
        total += usage.get("usage", 0) - usage.get("stats", {}).get("inactive_file", 0)
    return total


def measure(rounds: int) -> dict[str, object]:
    harness_up, raw_up, teardown, raw_down, memory = [], [], [], [], []
    for _ in range(rounds):
        stack = Stack(new_project_name())
        harness_up.append(_timed(stack.up))
        memory.append(max(_memory_bytes(stack) for _ in range(3)))
        teardown.append(_timed(stack.down))
        raw = new_project_name()
        raw_up.append(_timed(lambda p=raw: _raw_compose(p, "up", "-d", "--wait")))
        raw_down.append(_timed(lambda p=raw: _raw_compose(p, "down", "-v", "-t", "3")))
    up, raw_median = statistics.median(harness_up), statistics.median(raw_up)
    return {
        "rounds": rounds,
        "harness_up_s": harness_up,
        "raw_compose_up_wait_s": raw_up,
        "harness_up_median_s": up,
        "raw_compose_up_median_s": raw_median,
        "up_ratio": up / raw_median,
        "teardown_s": teardown,
        "teardown_median_s": statistics.median(teardown),
        "raw_compose_down_median_s": statistics.median(raw_down),
        "peak_stack_memory_mib": max(memory) / 2**20,
    }


ADOPTER = Path(__file__).resolve().parent.parent / "tests" / "integration" / "adopter_project"
ADOPTER_CONFIG = """backends = ["redis"]
compose-files = ["harness.compose.yaml"]

[services.web]
env = { WEB_PORT = "{port}" }
"""
ADOPTER_COMPOSE = """services:
  web:
    build: ./web
    healthcheck:
      test:
        - CMD
        - python
        - -c
        - import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + os.environ['WEB_PORT'])
      interval: 1s
      retries: 60
"""


def _adopter_project(directory: Path) -> None:
    shutil.copytree(ADOPTER / "web", directory / "web")
    (directory / "harness.toml").write_text(ADOPTER_CONFIG)
    (directory / "harness.compose.yaml").write_text(ADOPTER_COMPOSE)


def measure_adopter(rounds: int) -> dict[str, object]:
    """In a project directory: harness up of the merged stack vs raw compose on the same files."""
    from harness import _overlay, _process
    from harness._stack.addresses import free_port

    harness_up, raw_up = [], []
    for _ in range(rounds):
        stack = Stack(new_project_name())
        harness_up.append(_timed(stack.up))
        stack.down()
        reaper.remove_built_images(stack.project)  # its `web` image, tagged per project
        raw = Stack(new_project_name())  # only for its merged files and environment
        port = str(free_port())
        raw.compose.env.update(
            {
                raw.topology.under_test["web"].port_var: port,
                _overlay.env_var("web", "WEB_PORT"): port,
            }
        )
        up = ("up", "-d", "--wait", "toxiproxy", "redis", "web")  # what the harness started
        raw_up.append(_timed(lambda r=raw, args=up: r.compose.run(*args)))
        raw.compose.down()
        _process.stop_all(raw.project)
        reaper.remove_built_images(raw.project)
    up, raw_median = statistics.median(harness_up), statistics.median(raw_up)
    return {
        "adopter_harness_up_s": harness_up,
        "adopter_raw_compose_up_wait_s": raw_up,
        "adopter_harness_up_median_s": up,
        "adopter_raw_compose_up_median_s": raw_median,
        "adopter_up_ratio": up / raw_median,
    }


def _adopter_in_child(rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-adopter-") as directory:
        _adopter_project(Path(directory))
        env = {**os.environ, "HARNESS_PROJECT_ROOT": directory}
        env["HARNESS_STATE_DIR"] = str(Path(directory) / ".harness")
        done = subprocess.run(
            [sys.executable, __file__, "--adopter-only", "--rounds", str(rounds)],
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def cold_images() -> float:
    engine = _docker.client()
    for recipe in images.recipes().values():
        with contextlib.suppress(Exception):  # absent already
            engine.images.remove(recipe.tag, force=True)
    return _timed(lambda: images.ImageBuilder(offline=True, report=lambda _: None).ensure())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="also time a build with no images")
    parser.add_argument("--adopter-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.adopter_only:  # the child: in the adopter's directory, figures as one JSON line
        print(json.dumps(measure_adopter(args.rounds)))
        return 0
    figures: dict[str, object] = {}
    if args.cold:
        figures["cold_images_build_s"] = cold_images()
    figures.update(measure(args.rounds))
    figures.update(_adopter_in_child(args.rounds))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stack.json").write_text(json.dumps(figures, indent=2))
    print(
        f"warm up to healthy: harness {figures['harness_up_median_s']:.2f} s, "
        f"raw compose --wait {figures['raw_compose_up_median_s']:.2f} s, "
        f"ratio {figures['up_ratio']:.2f} (target <= 1.15, <= 20 s)"
    )
    print(
        f"adopter's merged stack (redis + a service under test): harness "
        f"{figures['adopter_harness_up_median_s']:.2f} s, raw compose --wait "
        f"{figures['adopter_raw_compose_up_median_s']:.2f} s, "
        f"ratio {figures['adopter_up_ratio']:.2f} (target <= 1.15)"
    )
    print(f"teardown: {figures['teardown_median_s']:.2f} s (target <= 10 s)")
    print(f"peak stack memory: {figures['peak_stack_memory_mib']:.0f} MiB (target <= 2048)")
    if "cold_images_build_s" in figures:
        print(f"cold image build: {figures['cold_images_build_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
