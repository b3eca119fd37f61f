"""Concurrency integrity: episode numbers per project are exactly 1..N under racing users."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from harness import Faults

from tests.integration.conftest import Studio

pytestmark = pytest.mark.concurrency


def _race(studio: Studio, users: int, episodes: int) -> tuple[str, list[int]]:
    project = studio.project()

    def user(n: int) -> list[int]:
        return [
            studio.episode(project, key=f"u{n}-e{i}", patience=60)["number"]
            for i in range(episodes)
        ]

    with ThreadPoolExecutor(max_workers=users) as pool:
        numbers = [number for batch in pool.map(user, range(users)) for number in batch]
    return project, numbers


@pytest.mark.e2e
def test_numbers_are_exactly_1_to_60_for_15_users_times_4_episodes(studio_intake: Studio) -> None:
    project, numbers = _race(studio_intake, 15, 4)
    assert sorted(numbers) == list(range(1, 61))
    replay = studio_intake.episode(project, key="u0-e0")  # a retried request creates nothing
    assert replay["number"] in numbers
    assert len(studio_intake.episodes(project)) == 60


@pytest.mark.faults
def test_numbers_stay_exact_under_latency_on_redis(studio_intake: Studio, faults: Faults) -> None:
    with faults.latency("redis", ms=40, jitter=30):
        project, numbers = _race(studio_intake, 15, 4)
    assert sorted(numbers) == list(range(1, 61))
    assert sorted(e["number"] for e in studio_intake.episodes(project)) == list(range(1, 61))
