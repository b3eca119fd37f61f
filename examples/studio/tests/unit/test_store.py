"""Projects and episodes: atomic numbering, idempotent creation, one job per episode."""

from __future__ import annotations

import asyncio

import pytest

from studio._errors import Conflict, NotFound
from studio._events import EventLog
from studio._metrics import Numbering
from studio._redisio import RedisIO
from studio._store import Store

pytestmark = pytest.mark.anyio

BODY = {"title": "Pilot", "premise": "It begins", "characters": []}


async def test_concurrent_creations_get_consecutive_unique_numbers(
    store: Store, io: RedisIO
) -> None:
    project = await store.create_project("P", "")
    created = await asyncio.gather(
        *(store.create_episode(project["id"], {**BODY, "title": f"t{i}"}, None) for i in range(25))
    )
    numbers = sorted(c.episode["number"] for c in created)
    assert numbers == list(range(1, 26))
    assert not any(c.replayed for c in created)
    listed = await store.list_episodes(project["id"])
    assert [e["number"] for e in listed] == list(range(1, 26))
    assert await io._client().llen(io.keys.pending()) == 25  # one job per episode


async def test_numbers_are_per_project(store: Store) -> None:
    a = await store.create_project("A", "")
    b = await store.create_project("B", "")
    await store.create_episode(a["id"], BODY, None)
    first_b = await store.create_episode(b["id"], BODY, None)
    assert first_b.episode["number"] == 1


async def test_idempotency_key_replays_the_same_episode(store: Store, io: RedisIO) -> None:
    project = await store.create_project("P", "")
    replies = await asyncio.gather(
        *(store.create_episode(project["id"], BODY, "key-1") for _ in range(10))
    )
    assert len({r.episode["id"] for r in replies}) == 1
    assert sum(not r.replayed for r in replies) == 1
    assert await io._client().llen(io.keys.pending()) == 1
    nxt = await store.create_episode(project["id"], BODY, "key-2")
    assert nxt.episode["number"] == 2  # replays consumed no number


async def test_idempotency_key_with_another_body_conflicts(store: Store) -> None:
    project = await store.create_project("P", "")
    await store.create_episode(project["id"], BODY, "k")
    with pytest.raises(Conflict):
        await store.create_episode(project["id"], {**BODY, "title": "other"}, "k")


async def test_unknown_project_creates_nothing(store: Store, io: RedisIO) -> None:
    with pytest.raises(NotFound):
        await store.create_episode("nope", BODY, "k")
    assert await io._client().keys("*") == []
    with pytest.raises(NotFound):
        await store.get_episode("nope")


async def test_a_failed_episode_keeps_its_number(store: Store, events: EventLog) -> None:
    project = await store.create_project("P", "")
    first = await store.create_episode(project["id"], BODY, None)
    await events.publish(first.episode["id"], "failed", {"error": "x"}, state="failed")
    second = await store.create_episode(project["id"], BODY, None)
    listed = await store.list_episodes(project["id"])
    assert [(e["number"], e["state"]) for e in listed] == [(1, "failed"), (2, "queued")]
    assert second.episode["number"] == 2
    assert await store.state_counts() == {"queued": 1, "failed": 1}


async def test_creation_writes_the_first_event(store: Store, events: EventLog) -> None:
    project = await store.create_project("P", "")
    created = await store.create_episode(project["id"], BODY, None)
    (event,) = await events.read(created.episode["id"])
    assert event.type == "queued" and event.data["number"] == 1


async def test_numbering_sees_a_gap_and_a_duplicate_written_directly_to_redis(
    store: Store, io: RedisIO
) -> None:
    project = await store.create_project("P", "")
    pid = project["id"]
    created = [await store.create_episode(pid, {**BODY, "title": f"t{i}"}, None) for i in range(3)]
    assert (await store.numbering())[pid] == Numbering(gaps=0, duplicates=0)
    index = io.keys.project_episodes(pid)
    second = created[1].episode["id"]
    await io._client().zrem(index, second)  # episode 2 lost from the index
    assert (await store.numbering())[pid] == Numbering(gaps=1, duplicates=0)
    await io._client().zadd(index, {second: 2, "stray": 1})  # 2 back; another episode 1
    assert (await store.numbering())[pid] == Numbering(gaps=0, duplicates=1)
    await io._client().incr(io.keys.episode_counter(pid))  # number 4 claimed, no episode
    assert (await store.numbering())[pid] == Numbering(gaps=1, duplicates=1)
