"""The reference system under test, driven end to end through the harness's fixtures and faults."""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from examples.studio.demo import read_sse
from harness.faults.tcp import Toxic
from harness.stack import Stack
from tests.integration.studio.conftest import Studio

BACKENDS = {"redis", "chromadb", "litellm", "comfyui", "wan2gp", "cablecast"}


def _project(studio: Studio) -> str:
    response = httpx.post(f"{studio.url}/projects", json={"name": f"p-{uuid.uuid4().hex[:6]}"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _episode(studio: Studio, project: str, key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    body = {
        "title": "Pilot",
        "premise": "a pilot and a mechanic race a storm",
        "characters": [
            {"name": "Ada", "description": "brave pilot"},
            {"name": "Bo", "description": "loyal mechanic"},
        ],
    }
    return httpx.post(
        f"{studio.url}/projects/{project}/episodes", json=body, headers=headers, timeout=30
    )


@pytest.mark.smoke
def test_health_matrix_reaches_every_backend_through_its_proxy(studio: Studio) -> None:
    code, states = _health(studio)
    assert code == 200 and set(states) >= BACKENDS and set(states.values()) == {"ok"}, states


def _health(studio: Studio) -> tuple[int, dict[str, str]]:
    response = httpx.get(f"{studio.url}/health", timeout=30)
    states = {name: dep["status"] for name, dep in response.json()["dependencies"].items()}
    return response.status_code, states


@pytest.mark.faults
def test_backend_down_through_its_proxy_degrades_health_then_recovers(
    studio_intake: Studio, faults
) -> None:
    with faults.down("comfyui"):
        code, states = _health(studio_intake)
        assert code == 503 and states["comfyui"] == "error"
        assert {name for name, state in states.items() if state == "error"} == {"comfyui"}
    code, states = _health(studio_intake)
    assert code == 200 and set(states.values()) == {"ok"}


@pytest.mark.faults
def test_wrong_address_at_run_time_then_corrected(studio_intake: Studio) -> None:
    config = httpx.get(f"{studio_intake.url}/config").json()
    good = config["comfyui_url"]
    changed = httpx.put(f"{studio_intake.url}/config", json={"comfyui_url": "http://127.0.0.1:9"})
    assert changed.status_code == 200, changed.text
    try:
        code, states = _health(studio_intake)
        assert code == 503 and states["comfyui"] == "error"
    finally:
        httpx.put(f"{studio_intake.url}/config", json={"comfyui_url": good})
    code, states = _health(studio_intake)
    assert code == 200 and states["comfyui"] == "ok"


@pytest.mark.e2e
def test_episode_runs_end_to_end_across_all_backends(studio: Studio) -> None:
    project = _project(studio)
    created = _episode(studio, project)
    assert created.status_code == 201, created.text
    episode = created.json()["id"]

    async def follow() -> list:
        async with httpx.AsyncClient(base_url=studio.url) as client:
            return await asyncio.wait_for(read_sse(client, f"/episodes/{episode}/events"), 180)

    events = asyncio.run(follow())
    assert events[-1].event == "completed", [e.event for e in events][-5:]
    ids = [event.id for event in events]
    assert len(ids) == len(set(ids))
    final = httpx.get(f"{studio.url}/episodes/{episode}").json()
    assert "http" in json.dumps(final)  # the published VOD's url is in the episode


@pytest.mark.e2e
def test_numbers_are_exactly_1_to_60_for_15_users_times_4_episodes(studio_intake: Studio) -> None:
    project = _project(studio_intake)

    def user(n: int) -> list[int]:
        return [_episode(studio_intake, project, f"u{n}-e{i}").json()["number"] for i in range(4)]

    with ThreadPoolExecutor(max_workers=15) as pool:
        numbers = [number for batch in pool.map(user, range(15)) for number in batch]
    assert sorted(numbers) == list(range(1, 61))
    replay = _episode(studio_intake, project, "u0-e0")  # a retried request creates nothing twice
    assert replay.status_code in (200, 201) and replay.json()["number"] in numbers
    listed = httpx.get(f"{studio_intake.url}/projects/{project}/episodes").json()
    assert len(listed["episodes"]) == 60


@pytest.mark.streaming
def test_sse_cut_by_the_proxy_resumes_with_last_event_id(studio: Studio, stack: Stack) -> None:
    project = _project(studio)
    episode = _episode(studio, project).json()["id"]
    seen: list = []

    async def cut_then_resume() -> list:
        async with httpx.AsyncClient(base_url=studio.url) as client:
            seen.extend(await read_sse(client, f"/episodes/{episode}/events", stop_after=2))
            cut = Toxic(stack.toxiproxy, studio.proxy, "reset_peer", {"timeout": 0})
            with cut, pytest.raises(httpx.TransportError):
                await asyncio.wait_for(
                    read_sse(client, f"/episodes/{episode}/events", last_id=seen[-1].id), 30
                )
            seen.extend(
                await asyncio.wait_for(
                    read_sse(client, f"/episodes/{episode}/events", last_id=seen[-1].id), 180
                )
            )
            return await read_sse(client, f"/episodes/{episode}/events")

    full = asyncio.run(cut_then_resume())
    assert full[-1].event == "completed"
    assert [e.id for e in seen] == [e.id for e in full]  # nothing missed, nothing twice
