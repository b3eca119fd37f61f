"""CPU and memory of a run's containers, sampled by a background thread in the controller."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness import _labels

MAX_SAMPLES = 1800  # per container: an hour at 2 s; older samples are thinned beyond that

StatsSource = Callable[[], list[tuple[str, str, dict[str, Any]]]]  # (name, service, stats)


def memory_mb(stats: dict[str, Any]) -> float:
    """Memory in use as `docker stats` shows it: usage less the inactive page cache."""
    memory = stats.get("memory_stats") or {}
    extra = memory.get("stats") or {}
    cache = extra.get("inactive_file", extra.get("total_inactive_file", 0))
    return round(max(0, memory.get("usage", 0) - cache) / 2**20, 3)


def cpu_percent(previous: dict[str, Any], current: dict[str, Any]) -> float:
    """CPU use between two one-shot stats, in % of one CPU (like `docker stats`)."""
    before, after = previous.get("cpu_stats") or {}, current.get("cpu_stats") or {}
    used = after.get("cpu_usage", {}).get("total_usage", 0) - before.get("cpu_usage", {}).get(
        "total_usage", 0
    )
    system = after.get("system_cpu_usage", 0) - before.get("system_cpu_usage", 0)
    cpus = after.get("online_cpus") or len(after.get("cpu_usage", {}).get("percpu_usage") or [1])
    if used < 0 or system <= 0:
        return 0.0
    return round(used / system * cpus * 100, 3)


def docker_source(run: str) -> StatsSource:
    """One-shot stats of every running container labeled with `run`."""
    from harness import _docker

    def one(container: Any) -> tuple[str, str, dict[str, Any]] | None:
        try:
            stats = container.stats(stream=False, one_shot=True)
        except Exception:  # gone between list and stats
            return None
        return container.name, container.labels.get(_labels.SERVICE, container.name), stats

    def read() -> list[tuple[str, str, dict[str, Any]]]:
        containers = _docker.client().containers.list(filters={"label": f"{_labels.RUN}={run}"})
        if not containers:
            return []
        with ThreadPoolExecutor(max_workers=min(8, len(containers))) as pool:  # ~1 s each
            return [found for found in pool.map(one, containers) if found]

    return read


class ResourceSampler:
    """Samples CPU % and memory (MB) per container every `interval` seconds until stopped."""

    def __init__(self, source: StatsSource, interval: float = 2.0) -> None:
        self.source, self.interval = source, interval
        self.started = time.time()
        self.containers: dict[str, dict[str, Any]] = {}
        self.error: str | None = None
        self._previous: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="harness-resources", daemon=True)

    def start(self) -> ResourceSampler:
        self._thread.start()
        return self

    def stop(self) -> dict[str, dict[str, Any]]:
        """Stop sampling; the samples per container."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        return self.containers

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end by itself (Docker gone); whether it has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def sample_once(self) -> None:
        """Take one sample of every container the source lists."""
        at = round(time.time() - self.started, 3)
        for name, service, stats in self.source():
            entry = self.containers.setdefault(name, {"service": service, "samples": []})
            previous = self._previous.get(name)
            self._previous[name] = stats
            cpu = cpu_percent(previous, stats) if previous else None
            entry["samples"].append({"t": at, "cpu_percent": cpu, "memory_mb": memory_mb(stats)})
            if len(entry["samples"]) > MAX_SAMPLES:
                entry["samples"] = entry["samples"][::2]

    def _loop(self) -> None:
        while True:  # at least one sample, however short the run
            began = time.monotonic()
            try:
                self.sample_once()
            except Exception as error:  # Docker gone: keep what we have, stop sampling
                self.error = f"{type(error).__name__}: {error}"
                return
            if self._stop.wait(max(0.0, self.interval - (time.monotonic() - began))):
                return


def summarise(containers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per container: its samples and peak/mean CPU and memory."""
    result: dict[str, Any] = {}
    for name, entry in sorted(containers.items()):
        samples = entry["samples"]
        cpus = [s["cpu_percent"] for s in samples if s["cpu_percent"] is not None]
        memory = [s["memory_mb"] for s in samples]
        result[name] = {
            "service": entry["service"],
            "cpu_percent_max": max(cpus, default=0.0),
            "cpu_percent_mean": round(sum(cpus) / len(cpus), 3) if cpus else 0.0,
            "memory_mb_max": max(memory, default=0.0),
            "memory_mb_mean": round(sum(memory) / len(memory), 3) if memory else 0.0,
            "samples": samples,
        }
    return result
