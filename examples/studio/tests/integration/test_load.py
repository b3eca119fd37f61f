"""Load: 50 users each run a whole workflow at once; at least 95 % succeed; p50/p95/p99 land in
the run's report (and in this test's user properties)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from harness import record_latency
from harness.reports import latency_stats

from studio.demo import read_sse
from tests.integration.conftest import CHARACTERS, Studio

pytestmark = [pytest.mark.load, pytest.mark.exclusive_stack]  # figures without neighbours

USERS = 50


async def _workflow(client: httpx.AsyncClient, n: int) -> float:
    """Create a project and an episode, follow its progress to the end, read the result."""
    started = time.monotonic()
    created = await client.post("/projects", json={"name": f"load-{n}-{uuid.uuid4().hex[:4]}"})
    created.raise_for_status()
    project = created.json()["id"]
    body = {"title": f"Episode of user {n}", "premise": "a storm", "characters": CHARACTERS}
    response = await client.post(
        f"/projects/{project}/episodes", json=body, headers={"Idempotency-Key": f"user-{n}"}
    )
    response.raise_for_status()
    episode = response.json()["id"]
    events = await read_sse(client, f"/episodes/{episode}/events")
    if not events or events[-1].event != "completed":
        raise AssertionError(f"user {n}: episode ended with {events[-1].event if events else None}")
    final = (await client.get(f"/episodes/{episode}")).json()
    if final["vod"]["state"] != "complete":
        raise AssertionError(f"user {n}: VOD {final['vod']}")
    return time.monotonic() - started


def test_50_concurrent_user_workflows_mostly_succeed(
    studio_fleet: Studio, record_property: Any
) -> None:
    async def everyone() -> list[float | BaseException]:
        limits = httpx.Limits(max_connections=2 * USERS)
        async with httpx.AsyncClient(
            base_url=studio_fleet.url, limits=limits, timeout=60
        ) as client:
            runs = [asyncio.wait_for(_workflow(client, n), 300) for n in range(USERS)]
            return list(await asyncio.gather(*runs, return_exceptions=True))

    outcomes = asyncio.run(everyone())
    seconds = [o for o in outcomes if isinstance(o, float)]
    failures = [repr(o) for o in outcomes if not isinstance(o, float)]
    for value in seconds:
        record_latency("studio", "user_workflow", value)
    figures = latency_stats(s * 1000 for s in seconds)
    record_property("workflow_ms", figures)
    record_property("success_rate", len(seconds) / USERS)
    print(f"\n{len(seconds)}/{USERS} workflows succeeded; ms {figures}")
    assert len(seconds) >= 0.95 * USERS, failures[:5]
