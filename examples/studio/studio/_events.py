"""Progress events: one Redis stream per episode; the stream entry id is the SSE `id:`.

Publishing is one Lua script that (optionally) moves the episode to a new state, updates the
episodes-by-state counts and appends the event, deduplicated by a caller-chosen uid so a retried
publish never appends twice. Readers resume strictly after a Last-Event-ID.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from ._redisio import RedisIO

TERMINAL = frozenset({"completed", "failed"})
BATCH = 500  # events per XREAD
_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")

PUBLISH = """
local uid_key, stream, episode, counts = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local uid, etype, data, state, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local existing = redis.call('HGET', uid_key, uid)
if existing then return existing end
if redis.call('EXISTS', episode) == 0 then return false end
if state ~= '' then
  local old = redis.call('HGET', episode, 'state')
  if old ~= state then
    if old then redis.call('HINCRBY', counts, old, -1) end
    redis.call('HINCRBY', counts, state, 1)
    redis.call('HSET', episode, 'state', state)
  end
end
redis.call('HSET', episode, 'updated_at', now)
for i = 6, #ARGV, 2 do redis.call('HSET', episode, ARGV[i], ARGV[i + 1]) end
local id = redis.call('XADD', stream, '*', 'type', etype, 'data', data)
redis.call('HSET', uid_key, uid, id)
return id
"""


@dataclass(frozen=True)
class Event:
    """One progress event as stored (id is the Redis stream id)."""

    id: str
    type: str
    data: dict[str, Any]

    @property
    def terminal(self) -> bool:
        """True for completed/failed: the last event of an episode."""
        return self.type in TERMINAL

    def sse(self) -> dict[str, str]:
        """The event as sse-starlette fields."""
        return {"id": self.id, "event": self.type, "data": json.dumps(self.data)}


def parse_event_id(raw: str | None) -> str | None:
    """Validate a Last-Event-ID (a Redis stream id); None when absent or malformed."""
    if raw is None:
        return None
    raw = raw.strip()
    return raw if _STREAM_ID.match(raw) else None


def id_after(a: str, b: str) -> bool:
    """True when stream id `a` is strictly after `b`."""
    ams, aseq = (int(x) for x in a.split("-"))
    bms, bseq = (int(x) for x in b.split("-"))
    return (ams, aseq) > (bms, bseq)


class EventLog:
    """Append and read per-episode progress events."""

    def __init__(self, io: RedisIO, block_ms: int = 5000) -> None:
        self.io = io
        self.block_ms = block_ms

    async def publish(
        self,
        episode_id: str,
        event_type: str,
        data: dict[str, Any],
        *,
        state: str | None = None,
        fields: dict[str, str] | None = None,
        uid: str | None = None,
    ) -> str | None:
        """Append an event (and apply a state change/fields atomically); its stream id.

        Returns None when the episode does not exist. `uid` makes the publish idempotent.
        """
        keys = self.io.keys
        payload = {"type": event_type, "episode_id": episode_id, **data}
        if state is not None:
            payload.setdefault("state", state)
        args: list[Any] = [
            uid or uuid.uuid4().hex,
            event_type,
            json.dumps(payload),
            state or "",
            f"{time.time():.3f}",
        ]
        for name, value in (fields or {}).items():
            args += [name, value]
        result = await self.io.script(
            "publish_event",
            PUBLISH,
            [
                keys.event_uids(episode_id),
                keys.events(episode_id),
                keys.episode(episode_id),
                keys.state_counts(),
            ],
            args,
        )
        if result and self.io.metrics is not None:
            self.io.metrics.events.labels(type=event_type).inc()
        return str(result) if result else None

    async def read(
        self, episode_id: str, after: str | None = None, block_ms: int | None = None
    ) -> list[Event]:
        """Events strictly after `after` (all when None); waits up to `block_ms` for new ones."""
        key = self.io.keys.events(episode_id)
        start = after or "0-0"
        block = self.block_ms if block_ms is None else block_ms

        async def xread(client: Any) -> Any:
            return await client.xread({key: start}, count=BATCH, block=block or None)

        timeout = self.io.call_timeout + block / 1000
        reply = await self.io.run("read_events", xread, timeout=timeout)
        events: list[Event] = []
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                events.append(Event(str(entry_id), fields["type"], json.loads(fields["data"])))
        return events

    async def follow(
        self, episode_id: str, after: str | None, is_finished: Any
    ) -> AsyncIterator[Event]:
        """Yield events after `after` until the terminal one.

        Also stops when `is_finished()` says the episode ended and nothing newer is stored
        (a client resuming past the terminal event).
        """
        last = after
        while True:
            # the state is read before the events: a terminal state means the terminal event
            # (written atomically with it) is already stored, so a non-blocking read suffices
            finished = bool(await is_finished())
            batch = await self.read(episode_id, last, block_ms=0 if finished else None)
            for event in batch:
                last = event.id
                yield event
                if event.terminal:
                    return
            if finished and len(batch) < BATCH:
                return
