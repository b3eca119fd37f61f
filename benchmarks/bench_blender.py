"""Blender sessions: start (cold and warm), an operator round trip, a panel draw, image size.

    python benchmarks/bench_blender.py

Cold: bpy's files are first evicted from the page cache (posix_fadvise DONTNEED, no root
needed), so the start reads them from disk; warm: the next starts. The operator and the panel
are the reference add-on's (examples/blender_director). Writes benchmarks/results/blender.json.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

from harness.blender import Session
from harness.blender._session import IMAGE

RESULTS = Path(__file__).parent / "results"
ADDON = Path(__file__).resolve().parents[1] / "examples" / "blender_director" / "director"
ROUNDS = 200


def _evict_bpy() -> int:
    spec = importlib.util.find_spec("bpy")
    if spec is None or spec.origin is None:
        return 0
    evicted = 0
    for path in Path(spec.origin).parent.rglob("*"):
        if path.is_file():
            with open(path, "rb") as file:
                os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            evicted += path.stat().st_size
    return evicted


def _start_seconds(python: str | None = None) -> float:
    begin = time.perf_counter()
    Session(clock="stepped", python=python).close()
    return time.perf_counter() - begin


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def _p99_ms(samples: list[float]) -> float:
    return round(sorted(samples)[int(0.99 * (len(samples) - 1))] * 1000, 3)


def _timed(call: object, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        begin = time.perf_counter()
        call()  # type: ignore[operator]
        samples.append(time.perf_counter() - begin)
    return samples


def _image_bytes() -> int | None:
    found = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Size}}", IMAGE],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return int(found.stdout.strip()) if found.returncode == 0 else None


def main() -> None:
    evicted = _evict_bpy()
    cold = _start_seconds()
    warm = [_start_seconds() for _ in range(5)]
    with Session(clock="stepped") as session:
        session.enable(ADDON)
        session.preferences("director", poll_seconds=60.0)
        operator = _timed(lambda: session.operator("director.manual_reconnect", service="wan2gp"),
                          ROUNDS)  # fmt: skip
        panel = _timed(lambda: session.panel("DIRECTOR_PT_connections"), ROUNDS)
        get = _timed(lambda: session.get("bpy.context.scene.frame_end"), ROUNDS)
    size = _image_bytes()
    in_image = [_start_seconds("image") for _ in range(4)] if size else []
    figures = {
        "bpy_bytes_evicted_for_cold_start": evicted,
        "session_start_cold_s": round(cold, 3),
        "session_start_warm_median_s": round(statistics.median(warm), 3),
        "operator_round_trip_ms": {"median": _median_ms(operator), "p99": _p99_ms(operator)},
        "panel_draw_ms": {"median": _median_ms(panel), "p99": _p99_ms(panel)},
        "property_get_ms": {"median": _median_ms(get), "p99": _p99_ms(get)},
        "rounds": ROUNDS,
        "image": IMAGE,
        "image_size_mb": round(size / 1e6, 1) if size else None,
        "image_session_start_first_s": round(in_image[0], 3) if in_image else None,
        "image_session_start_next_median_s": (
            round(statistics.median(in_image[1:]), 3) if in_image else None
        ),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "blender.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
