"""Projects and episodes in Redis: atomic episode numbering, idempotent creation, enqueueing.

Creating an episode is one Lua script: claim the Idempotency-Key with SET NX (the stored value
is the result: episode id and request fingerprint), INCR the project's counter, write the
episode, index it, push its job and append its first event. Nothing can leave a gap or a
duplicate number: the number exists exactly when the episode does.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ._errors import Conflict, NotFound
from ._metrics import Numbering
from ._redisio import RedisIO

IDEMPOTENCY_TTL = 24 * 3600
JSON_FIELDS = ("characters", "cast", "similar", "keyframes", "clip", "vod")

CREATE_EPISODE = """
local idem, counter, episode, index, pending, counts, project, stream =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local eid, fingerprint, ttl, now, title, premise, characters, pid, event =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
if redis.call('EXISTS', project) == 0 then return {'missing', ''} end
local claim = cjson.encode({episode_id = eid, fingerprint = fingerprint})
if not redis.call('SET', idem, claim, 'NX', 'EX', ttl) then
  return {'replay', redis.call('GET', idem)}
end
local n = redis.call('INCR', counter)
redis.call('HSET', episode, 'id', eid, 'project_id', pid, 'number', n, 'title', title,
  'premise', premise, 'characters', characters, 'state', 'queued', 'step', '',
  'created_at', now, 'updated_at', now)
redis.call('ZADD', index, n, eid)
redis.call('HINCRBY', counts, 'queued', 1)
local data = string.gsub(event, '"__NUMBER__"', tostring(n))
redis.call('XADD', stream, '*', 'type', 'queued', 'data', data)
redis.call('LPUSH', pending, eid)
return {'created', tostring(n)}
"""


@dataclass(frozen=True)
class Created:
    """Result of create_episode: the episode, and whether it was replayed from a stored key."""

    episode: dict[str, Any]
    replayed: bool


def fingerprint(body: dict[str, Any]) -> str:
    """Stable hash of a request body (to detect an Idempotency-Key reused for another body)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def decode_episode(raw: dict[str, str]) -> dict[str, Any]:
    """Redis hash -> API representation."""
    out: dict[str, Any] = dict(raw)
    out["number"] = int(raw["number"])
    for name in JSON_FIELDS:
        out[name] = json.loads(raw[name]) if raw.get(name) else None
    for name in ("created_at", "updated_at"):
        out[name] = float(raw[name]) if raw.get(name) else None
    out["error"] = raw.get("error") or None
    return out


class Store:
    """Project and episode records."""

    def __init__(self, io: RedisIO) -> None:
        self.io = io

    async def create_project(self, name: str, description: str) -> dict[str, Any]:
        """Create a project; returns its record."""
        project = {
            "id": uuid.uuid4().hex,
            "name": name,
            "description": description,
            "created_at": f"{time.time():.3f}",
        }
        keys = self.io.keys

        async def write(client: Any) -> None:
            async with client.pipeline(transaction=True) as pipe:
                pipe.hset(keys.project(project["id"]), mapping=project)
                pipe.zadd(keys.projects(), {project["id"]: time.time()})
                await pipe.execute()

        await self.io.run("create_project", write)
        return {**project, "created_at": float(project["created_at"])}

    async def get_project(self, project_id: str) -> dict[str, Any]:
        """A project record (NotFound when unknown)."""
        raw = await self.io.run(
            "get_project", lambda c: c.hgetall(self.io.keys.project(project_id))
        )
        if not raw:
            raise NotFound(f"project {project_id} not found")
        return {**raw, "created_at": float(raw["created_at"])}

    async def create_episode(
        self,
        project_id: str,
        body: dict[str, Any],
        idempotency_key: str | None,
    ) -> Created:
        """Create an episode with the next number and enqueue its pipeline job.

        Without an Idempotency-Key a random one is used, so that a retried script call after
        a lost reply still creates the episode once.
        """
        keys = self.io.keys
        episode_id = uuid.uuid4().hex
        now = f"{time.time():.3f}"
        event = json.dumps(
            {"type": "queued", "episode_id": episode_id, "state": "queued", "number": "__NUMBER__"}
        )
        args = [
            episode_id,
            fingerprint(body),
            IDEMPOTENCY_TTL,
            now,
            body.get("title", ""),
            body.get("premise", ""),
            json.dumps(body.get("characters") or []),
            project_id,
            event,
        ]
        status, payload = await self.io.script(
            "create_episode",
            CREATE_EPISODE,
            [
                keys.idempotency(project_id, idempotency_key or uuid.uuid4().hex),
                keys.episode_counter(project_id),
                keys.episode(episode_id),
                keys.project_episodes(project_id),
                keys.pending(),
                keys.state_counts(),
                keys.project(project_id),
                keys.events(episode_id),
            ],
            args,
        )
        if status == "missing":
            raise NotFound(f"project {project_id} not found")
        if status == "replay":
            claim = json.loads(payload)
            if claim["fingerprint"] != fingerprint(body):
                raise Conflict("Idempotency-Key was already used with a different request body")
            return Created(await self.get_episode(claim["episode_id"]), replayed=True)
        return Created(await self.get_episode(episode_id), replayed=False)

    async def get_episode(self, episode_id: str) -> dict[str, Any]:
        """An episode record (NotFound when unknown)."""
        raw = await self.io.run(
            "get_episode", lambda c: c.hgetall(self.io.keys.episode(episode_id))
        )
        if not raw:
            raise NotFound(f"episode {episode_id} not found")
        return decode_episode(raw)

    async def list_episodes(self, project_id: str) -> list[dict[str, Any]]:
        """A project's episodes ordered by number."""
        await self.get_project(project_id)
        keys = self.io.keys

        async def fetch(client: Any) -> list[dict[str, str]]:
            ids = await client.zrange(keys.project_episodes(project_id), 0, -1)
            async with client.pipeline(transaction=False) as pipe:
                for episode_id in ids:
                    pipe.hgetall(keys.episode(episode_id))
                rows: list[dict[str, str]] = await pipe.execute()
            return rows

        return [decode_episode(row) for row in await self.io.run("list_episodes", fetch) if row]

    async def set_fields(self, episode_id: str, fields: dict[str, Any]) -> None:
        """Store pipeline outputs on the episode (JSON-encoded where structured)."""
        mapping = {
            k: json.dumps(v) if k in JSON_FIELDS else str(v)
            for k, v in fields.items()
            if v is not None
        }
        key = self.io.keys.episode(episode_id)
        await self.io.run("set_episode_fields", lambda c: c.hset(key, mapping=mapping))

    async def state_counts(self) -> dict[str, int]:
        """Episodes by state (maintained atomically by the publish script)."""
        raw = await self.io.run("state_counts", lambda c: c.hgetall(self.io.keys.state_counts()))
        return {state: int(count) for state, count in raw.items()}

    async def numbering(self) -> dict[str, Numbering]:
        """Every project's numbering as Redis holds it: its counter against its episode index
        (a record lost or written by hand shows here as a gap or a duplicate)."""
        keys = self.io.keys

        async def fetch(client: Any) -> dict[str, Numbering]:
            projects = await client.zrange(keys.projects(), 0, -1)
            async with client.pipeline(transaction=False) as pipe:
                for project in projects:
                    pipe.get(keys.episode_counter(project))
                    pipe.zrange(keys.project_episodes(project), 0, -1, withscores=True)
                rows = await pipe.execute()
            found = {}
            for index, project in enumerate(projects):
                counter, members = rows[2 * index], rows[2 * index + 1]
                numbers = [int(score) for _, score in members]
                found[project] = Numbering.of(int(counter or 0), numbers)
            return found

        result: dict[str, Numbering] = await self.io.run("numbering", fetch)
        return result
