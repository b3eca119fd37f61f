"""Streaming: SSE progress resumes with Last-Event-ID after a cut, fans out to 50 readers, and
the WebSocket tools serve 20 clients at once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import websockets
from harness import ServiceUnderTest, Stack
from harness.faults import Faults, Toxic

from studio.demo import Sse, read_sse
from tests.integration.conftest import CHARACTERS, Studio

pytestmark = pytest.mark.streaming


def test_sse_cut_by_the_proxy_resumes_with_last_event_id(studio: Studio, stack: Stack) -> None:
    project = studio.project()
    episode = studio.episode(project)["id"]
    path = f"/episodes/{episode}/events"
    seen: list[Sse] = []

    async def cut_then_resume() -> list[Sse]:
        async with httpx.AsyncClient(base_url=studio.url) as client:
            seen.extend(await read_sse(client, path, stop_after=2))
            cut = Toxic(stack.toxiproxy, studio.proxy, "reset_peer", {"timeout": 0})
            with cut, pytest.raises(httpx.TransportError):
                await asyncio.wait_for(read_sse(client, path, last_id=seen[-1].id), 30)
            seen.extend(await asyncio.wait_for(read_sse(client, path, last_id=seen[-1].id), 180))
            return await read_sse(client, path)

    full = asyncio.run(cut_then_resume())
    assert full[-1].event == "completed"
    assert [e.id for e in seen] == [e.id for e in full]  # nothing missed, nothing twice


@pytest.mark.faults
def test_an_http_cut_of_the_declared_studio_resumes_with_last_event_id(
    under_test: Callable[[str], ServiceUnderTest], faults: Faults, journal: Any
) -> None:
    """The studio as the harness runs it (`[services.studio]`), faulted for its callers: its
    SSE stream is cut after two events by the HTTP fault layer, and the reader resumes."""
    studio = under_test("studio")
    project = httpx.post(f"{studio.url}/projects", json={"name": "cut"}, timeout=30).json()["id"]
    body = {"title": "Pilot", "premise": "a pilot and a mechanic race a storm"}
    episode = httpx.post(
        f"{studio.url}/projects/{project}/episodes", json={**body, "characters": CHARACTERS},
        timeout=30,
    ).json()["id"]  # fmt: skip
    path = f"/episodes/{episode}/events"
    faults.http("studio", cut_after=2, path="/episodes/*/events", times=1)
    seen: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("GET", f"{studio.url}{path}", timeout=60) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("id:"):
                seen.append(line.removeprefix("id:").strip())
    assert len(seen) == 2

    async def resume_then_all() -> tuple[list[Sse], list[Sse]]:
        async with httpx.AsyncClient(base_url=studio.url) as client:
            rest = await asyncio.wait_for(read_sse(client, path, last_id=seen[-1]), 180)
            return rest, await read_sse(client, path)

    rest, full = asyncio.run(resume_then_all())
    assert full[-1].event == "completed"
    assert seen + [e.id for e in rest] == [e.id for e in full]  # nothing missed, nothing twice
    cut, resumed = journal("studio").find(method="GET", path="/episodes/*/events")[:2]
    assert (cut.outcome, resumed.header("last-event-id")) == ("cut", seen[-1])


def test_50_concurrent_sse_streams_each_see_every_event(studio_fleet: Studio) -> None:
    project = studio_fleet.project()
    episodes = [studio_fleet.episode(project)["id"] for _ in range(5)]

    async def readers() -> list[list[Sse]]:
        limits = httpx.Limits(max_connections=60)
        async with httpx.AsyncClient(base_url=studio_fleet.url, limits=limits) as client:
            streams = [read_sse(client, f"/episodes/{episodes[n % 5]}/events") for n in range(50)]
            return list(await asyncio.wait_for(asyncio.gather(*streams), 240))

    results = asyncio.run(readers())
    for n, events in enumerate(results):
        assert events and events[-1].event == "completed", (n, [e.event for e in events][-3:])
        assert [e.id for e in events] == [e.id for e in results[n % 5]]  # same story for all


def test_20_concurrent_websocket_clients_get_their_own_answers(studio: Studio) -> None:
    tools = studio.url.replace("http", "ws", 1) + "/ws/tools"

    async def client(n: int) -> tuple[list[dict], list[str]]:
        project = await asyncio.to_thread(studio.project)
        names = [f"hero-{n}-{uuid.uuid4().hex[:4]}", f"rival-{n}-{uuid.uuid4().hex[:4]}"]
        answers: list[dict] = []
        async with websockets.connect(tools, open_timeout=30) as ws:
            for i, name in enumerate(names):
                call = {
                    "tool": "create_character",
                    "project_id": project,
                    "name": name,
                    "description": f"character {i} of client {n}",
                    "id": f"{n}-{i}",
                }
                await ws.send(json.dumps(call))
                answers.append(json.loads(await ws.recv()))
            find = {
                "tool": "find_similar_characters",
                "project_id": project,
                "description": f"character 0 of client {n}",
                "limit": 5,
                "id": f"{n}-find",
            }
            await ws.send(json.dumps(find))
            answers.append(json.loads(await ws.recv()))
        return answers, names

    async def everyone() -> list[tuple[list[dict], list[str]]]:
        return list(await asyncio.wait_for(asyncio.gather(*(client(n) for n in range(20))), 120))

    for n, (answers, names) in enumerate(asyncio.run(everyone())):
        assert all(a["ok"] for a in answers), answers
        assert [a["id"] for a in answers] == [f"{n}-0", f"{n}-1", f"{n}-find"]
        assert [a["result"]["name"] for a in answers[:2]] == names
        assert sorted(c["name"] for c in answers[2]["result"]) == sorted(names)  # own project only
