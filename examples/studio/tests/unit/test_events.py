"""Event ids and Last-Event-ID resume on a Redis stream (fakeredis)."""

from __future__ import annotations

import asyncio

import pytest

from studio._events import Event, EventLog, id_after, parse_event_id
from studio._redisio import RedisIO

pytestmark = pytest.mark.anyio


async def _episode(io: RedisIO, episode_id: str = "e1", state: str = "queued") -> str:
    client = io._client()
    await client.hset(io.keys.episode(episode_id), mapping={"id": episode_id, "state": state})
    await client.hincrby(io.keys.state_counts(), state, 1)
    return episode_id


async def _collect(
    events: EventLog, io: RedisIO, episode_id: str, after: str | None
) -> list[Event]:
    async def finished() -> bool:
        state = await io._client().hget(io.keys.episode(episode_id), "state")
        return state in ("completed", "failed")

    return [e async for e in events.follow(episode_id, after, finished)]


def test_parse_event_id() -> None:
    assert parse_event_id("1700000000000-3") == "1700000000000-3"
    assert parse_event_id(" 5-0 ") == "5-0"
    for bad in (None, "", "abc", "5", "5-x", "5-0; DROP"):
        assert parse_event_id(bad) is None
    assert id_after("5-1", "5-0") and id_after("6-0", "5-9") and not id_after("5-0", "5-0")


async def test_publish_assigns_increasing_ids_and_moves_state(
    events: EventLog, io: RedisIO
) -> None:
    episode = await _episode(io)
    first = await events.publish(episode, "step_started", {"step": "scripting"}, state="scripting")
    second = await events.publish(episode, "progress", {"value": 1})
    assert first and second and id_after(second, first)
    client = io._client()
    assert await client.hget(io.keys.episode(episode), "state") == "scripting"
    assert await client.hgetall(io.keys.state_counts()) == {"queued": "0", "scripting": "1"}
    stored = await events.read(episode)
    assert [e.id for e in stored] == [first, second]
    assert stored[0].data == {
        "type": "step_started",
        "episode_id": episode,
        "step": "scripting",
        "state": "scripting",
    }


async def test_same_uid_publishes_once(events: EventLog, io: RedisIO) -> None:
    episode = await _episode(io)
    a = await events.publish(episode, "failed", {}, state="failed", uid="u1")
    b = await events.publish(episode, "failed", {}, state="failed", uid="u1")
    assert a == b and len(await events.read(episode)) == 1
    assert await io._client().hget(io.keys.state_counts(), "failed") == "1"


async def test_publish_to_unknown_episode_is_refused(events: EventLog) -> None:
    assert await events.publish("missing", "x", {}) is None


async def test_resume_after_any_event_misses_nothing_and_repeats_nothing(
    events: EventLog, io: RedisIO
) -> None:
    episode = await _episode(io)
    for n in range(6):
        await events.publish(episode, "progress", {"n": n})
    await events.publish(episode, "completed", {}, state="completed")
    everything = await _collect(events, io, episode, None)
    assert [e.type for e in everything][-1] == "completed" and len(everything) == 7
    for cut in range(len(everything)):
        head = everything[: cut + 1]
        tail = await _collect(events, io, episode, head[-1].id)
        assert [e.id for e in head + tail] == [e.id for e in everything]


async def test_follow_waits_for_live_events_until_the_terminal_one(
    events: EventLog, io: RedisIO
) -> None:
    episode = await _episode(io)
    received: list[Event] = []
    first_seen = asyncio.Event()

    async def follower() -> None:
        async for event in events.follow(episode, None, _never):
            received.append(event)
            first_seen.set()

    task = asyncio.create_task(follower())
    await events.publish(episode, "progress", {"n": 1})
    await asyncio.wait_for(first_seen.wait(), 5)
    await events.publish(episode, "progress", {"n": 2})
    await events.publish(episode, "failed", {"error": "boom"}, state="failed")
    await asyncio.wait_for(task, 5)
    assert [e.type for e in received] == ["progress", "progress", "failed"]
    assert received[-1].terminal and received[-1].sse()["id"] == received[-1].id


async def _never() -> bool:
    return False
