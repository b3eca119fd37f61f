"""Prometheus metrics on a registry owned by one app instance (several apps per process work)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

EPISODE_STATES = (
    "queued",
    "scripting",
    "casting",
    "rendering_keyframes",
    "rendering_clip",
    "publishing",
    "completed",
    "failed",
)


@dataclass(frozen=True)
class Numbering:
    """One project's episode numbering as stored: numbers missing and numbers used twice."""

    gaps: int
    duplicates: int

    @classmethod
    def of(cls, counter: int, numbers: list[int]) -> Numbering:
        """From the project's counter and its episodes' numbers (the index's scores)."""
        distinct = {number for number in numbers if number >= 1}
        highest = max([counter, *distinct])
        return cls(gaps=highest - len(distinct), duplicates=len(numbers) - len(set(numbers)))


class Metrics:
    """The studio's metric families."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "studio_http_requests",
            "HTTP requests handled",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "studio_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )
        self.step_duration = Histogram(
            "studio_pipeline_step_duration_seconds",
            "Duration of each pipeline step",
            ["step", "outcome"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
            registry=self.registry,
        )
        self.retries = Counter(
            "studio_backend_retries",
            "Backend call attempts that failed transiently and were retried",
            ["backend", "operation"],
            registry=self.registry,
        )
        self.backend_calls = Counter(
            "studio_backend_calls",
            "Backend calls by final outcome (after retries)",
            ["backend", "operation", "outcome"],
            registry=self.registry,
        )
        self.episodes = Gauge(
            "studio_episodes",
            "Episodes by state (from Redis at scrape time)",
            ["state"],
            registry=self.registry,
        )
        self.number_gaps = Gauge(
            "studio_episode_number_gaps",
            "Episode numbers from 1 to the project's highest with no episode (from Redis at scrape "
            "time)",
            ["project"],
            registry=self.registry,
        )
        self.number_duplicates = Gauge(
            "studio_episode_number_duplicates",
            "Episodes whose number another episode of the project also has (from Redis at scrape "
            "time)",
            ["project"],
            registry=self.registry,
        )
        self.events = Counter(
            "studio_events_published", "Progress events published", ["type"], registry=self.registry
        )

    def set_episode_counts(self, counts: dict[str, int]) -> None:
        """Update the episodes-by-state gauge from a {state: count} mapping."""
        for state in {*EPISODE_STATES, *counts}:
            self.episodes.labels(state=state).set(counts.get(state, 0))

    def set_numbering(self, numbering: dict[str, Numbering]) -> None:
        """Replace the numbering gauges with one series per project (projects gone: dropped)."""
        self.number_gaps.clear()
        self.number_duplicates.clear()
        for project, found in numbering.items():
            self.number_gaps.labels(project=project).set(found.gaps)
            self.number_duplicates.labels(project=project).set(found.duplicates)

    def render(self) -> bytes:
        """Prometheus text exposition of this registry."""
        return generate_latest(self.registry)
