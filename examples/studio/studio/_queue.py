"""Reliable job queue: BLMOVE pending -> processing, a lease per job, requeue of lost jobs.

A worker moves a job atomically into the processing list (so a crash never loses it), takes
the job's lease (SET NX EX, renewed while it works) and removes the job when done. The reaper
puts back jobs that sit in the processing list without a lease on two scans in a row (their
worker died), so they run again; the pipeline resumes from the episode's stored outputs.
"""

from __future__ import annotations

from typing import Any

from ._redisio import RedisIO

RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

RELEASE = """
redis.call('LREM', KEYS[2], 1, ARGV[1])
if redis.call('GET', KEYS[1]) == ARGV[2] then redis.call('DEL', KEYS[1]) end
return 1
"""

REQUEUE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local removed = redis.call('LREM', KEYS[2], 1, ARGV[1])
if removed == 0 then return 0 end
redis.call('RPUSH', KEYS[3], ARGV[1])
return 1
"""

GIVE_BACK = """
if redis.call('GET', KEYS[1]) == ARGV[2] then redis.call('DEL', KEYS[1]) end
if redis.call('LREM', KEYS[2], 1, ARGV[1]) == 1 then redis.call('RPUSH', KEYS[3], ARGV[1]) end
return 1
"""


class JobQueue:
    """Episode jobs (the job is the episode id)."""

    def __init__(self, io: RedisIO) -> None:
        self.io = io
        self._leaseless: set[str] = set()

    async def take(self, timeout: float) -> str | None:
        """Block up to `timeout` s for a job and move it to the processing list."""
        keys = self.io.keys

        async def blmove(client: Any) -> Any:
            return await client.blmove(keys.pending(), keys.processing(), timeout, "RIGHT", "LEFT")

        job = await self.io.run("take_job", blmove, timeout=self.io.call_timeout + timeout)
        return str(job) if job else None

    async def lease(self, job: str, owner: str, seconds: float) -> bool:
        """Take the job's lease; False when another worker holds it (a duplicate job)."""
        key = self.io.keys.lease(job)
        ms = int(seconds * 1000)
        return bool(await self.io.run("lease_job", lambda c: c.set(key, owner, nx=True, px=ms)))

    async def renew(self, job: str, owner: str, seconds: float) -> bool:
        """Extend the lease if still ours."""
        keys = self.io.keys
        renewed = await self.io.script(
            "renew_lease", RENEW, [keys.lease(job)], [owner, int(seconds * 1000)]
        )
        return bool(renewed)

    async def done(self, job: str, owner: str) -> None:
        """Remove the job from the processing list and drop our lease."""
        keys = self.io.keys
        await self.io.script(
            "release_job", RELEASE, [keys.lease(job), keys.processing()], [job, owner]
        )

    async def give_back(self, job: str, owner: str) -> None:
        """Return an unfinished job to the pending list now (graceful shutdown)."""
        keys = self.io.keys
        await self.io.script(
            "give_back_job",
            GIVE_BACK,
            [keys.lease(job), keys.processing(), keys.pending()],
            [job, owner],
        )

    async def drop_duplicate(self, job: str) -> None:
        """Remove one copy of a job whose lease another worker holds."""
        key = self.io.keys.processing()
        await self.io.run("drop_duplicate", lambda c: c.lrem(key, 1, job))

    async def reap(self) -> list[str]:
        """Requeue processing jobs found without a lease on this scan and the previous one."""
        keys = self.io.keys
        jobs = await self.io.run("scan_processing", lambda c: c.lrange(keys.processing(), 0, -1))
        leases = await self.io.run(
            "scan_leases",
            lambda c: c.exists(*[keys.lease(j) for j in jobs]) if jobs else _zero(),
        )
        requeued: list[str] = []
        now_leaseless: set[str] = set()
        if leases != len(jobs):
            for job in jobs:
                lease_key = keys.lease(job)

                async def exists(client: Any, key: str = lease_key) -> int:
                    return int(await client.exists(key))

                held = await self.io.run("check_lease", exists)
                if held:
                    continue
                if job in self._leaseless:
                    moved = await self.io.script(
                        "requeue_job",
                        REQUEUE,
                        [keys.lease(job), keys.processing(), keys.pending()],
                        [job],
                    )
                    if moved:
                        requeued.append(job)
                else:
                    now_leaseless.add(job)
        self._leaseless = now_leaseless
        return requeued

    async def depth(self) -> tuple[int, int]:
        """(pending, processing) lengths."""
        keys = self.io.keys

        async def lengths(client: Any) -> tuple[int, int]:
            return int(await client.llen(keys.pending())), int(await client.llen(keys.processing()))

        return await self.io.run("queue_depth", lengths)


async def _zero() -> int:
    return 0
