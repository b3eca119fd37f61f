"""End-to-end demo against a running studio: `python -m studio.demo --base URL`.

Creates a project, creates N episodes concurrently (each with an Idempotency-Key, one of them
sent twice), follows every episode's Server-Sent Events to the terminal event (one stream is cut
after a few events and resumed with Last-Event-ID), checks numbering and the published VODs,
uses the WebSocket tools and prints figures. With --scenarios it also checks a failing episode,
HTTP faults injected in front of the mocks and a wrong/restored ComfyUI address (this changes the
studio's configuration for a moment). Exit status 1 when a check fails.

The faults go through the harness stack the studio runs on (`--project`, default the stack of
`harness up`): `harness.Faults` puts HTTP rules on its HTTP fault layer, on the links the service
under test `--via` (default `studio`) reaches the backends through. Run it from the directory of
the studio's `pyproject.toml` (the harness reads the project's configuration there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets


@dataclass
class Sse:
    """One parsed server-sent event."""

    id: str | None
    event: str
    data: dict[str, Any] = field(default_factory=dict)


async def read_sse(
    client: httpx.AsyncClient, path: str, last_id: str | None = None, stop_after: int | None = None
) -> list[Sse]:
    """Read events (skipping comments/pings) until the stream ends or `stop_after` events."""
    headers = {"Last-Event-ID": last_id} if last_id else {}
    events: list[Sse] = []
    async with client.stream("GET", path, headers=headers, timeout=None) as resp:
        resp.raise_for_status()
        current: dict[str, str] = {}
        async for line in resp.aiter_lines():
            if line.startswith(":"):
                continue
            if line == "":
                if "event" in current or "data" in current:
                    data = json.loads(current["data"]) if current.get("data") else {}
                    events.append(Sse(current.get("id"), current.get("event", "message"), data))
                    if stop_after is not None and len(events) >= stop_after:
                        return events
                current = {}
                continue
            name, _, value = line.partition(":")
            current[name] = value.removeprefix(" ")
    return events


async def follow(client: httpx.AsyncClient, episode_id: str, cut_after: int | None) -> list[Sse]:
    """All events of an episode; with `cut_after`, reconnect once with Last-Event-ID."""
    path = f"/episodes/{episode_id}/events"
    if cut_after is None:
        return await read_sse(client, path)
    first = await read_sse(client, path, stop_after=cut_after)
    rest = await read_sse(client, path, last_id=first[-1].id)
    return first + rest


class Checks:
    """Collects pass/fail lines."""

    def __init__(self) -> None:
        self.failures = 0

    def check(self, ok: bool, what: str) -> None:
        print(f"  [{'ok' if ok else 'FAIL'}] {what}")
        self.failures += 0 if ok else 1


async def tools_demo(base: str, project_id: str, checks: Checks) -> None:
    """create_character x2, find_similar_characters, and an invalid call over /ws/tools."""
    url = base.replace("http://", "ws://").replace("https://", "wss://") + "/ws/tools"
    async with websockets.connect(url) as ws:
        created = []
        for name, desc in (
            ("Captain Mira", "a weathered starship captain with a secret"),
            ("Dr. Ode", "a cheerful xenobiologist who talks to plants"),
        ):
            await ws.send(
                json.dumps(
                    {
                        "tool": "create_character",
                        "project_id": project_id,
                        "name": name,
                        "description": desc,
                    }
                )
            )
            created.append(json.loads(await ws.recv()))
        checks.check(all(c["ok"] for c in created), f"create_character x2 -> {created[0]}")
        await ws.send(
            json.dumps(
                {
                    "tool": "find_similar_characters",
                    "project_id": project_id,
                    "description": "a starship captain",
                    "limit": 3,
                }
            )
        )
        similar = json.loads(await ws.recv())
        names = [r["name"] for r in similar.get("result") or []]
        checks.check(similar["ok"] and len(names) == 3, f"find_similar_characters -> {names}")
        await ws.send(
            json.dumps(
                {"tool": "find_similar_characters", "project_id": "nope", "description": "x"}
            )
        )
        missing = json.loads(await ws.recv())
        checks.check(
            missing == {"ok": False, "error": "project nope not found"},
            f"unknown project -> {missing}",
        )
        await ws.send(json.dumps({"tool": "fly"}))
        bad = json.loads(await ws.recv())
        checks.check(bad["ok"] is False and "tool" in bad["error"], f"unknown tool -> {bad}")


async def scenarios(
    client: httpx.AsyncClient, checks: Checks, stack: str, via: str | None = "studio"
) -> None:
    """Failure keeps its number, injected faults are retried, a wrong address fails clearly.

    Mock addresses and the namespace come from the studio's own GET /config. The faults are
    rules of the HTTP fault layer of the harness stack `stack`, on the links `via` reaches
    ComfyUI and Cablecast through (None: the stack's default proxies), and only hit requests
    that carry the studio's namespace; they are cleared once the faulted episode has ended.
    """
    from harness import Faults, Stack  # the harness only for this part (not in the image)

    config = (await client.get("/config")).json()
    ours = {config["namespace_header"]: config["namespace"]}
    project = (await client.post("/projects", json={"name": "Scenarios"})).json()
    path = f"/projects/{project['id']}/episodes"

    async def run_episode(title: str, premise: str = "") -> tuple[dict[str, Any], list[Sse]]:
        episode = (await client.post(path, json={"title": title, "premise": premise})).json()
        return episode, await read_sse(client, f"/episodes/{episode['id']}/events")

    doomed, events = await run_episode("Doomed", "this will FAIL_GEN now")
    checks.check(
        events[-1].event == "failed" and events[-1].data.get("step") == "rendering_clip",
        f"Wan2GP error -> failed at rendering_clip: {events[-1].data.get('error')}",
    )
    after, events = await run_episode("After the failure")
    checks.check(
        (doomed["number"], after["number"], events[-1].event) == (1, 2, "completed"),
        "the failed episode kept number 1, the next one got 2 and completed",
    )
    faults = Faults(Stack(stack))
    try:
        faults.http(
            "comfyui", status=500, times=2, path_regex="^/prompt$", match_headers=ours, via=via
        )
        faults.http(  # the connection closed before any response byte
            "cablecast",
            reset="before_headers",
            times=1,
            path_regex="/shows$",
            match_headers=ours,
            via=via,
        )
        faults.http(
            "cablecast", status=503, times=2, path_regex="/status$", match_headers=ours, via=via
        )
        _, events = await run_episode("Under faults")
    finally:
        faults.clear()
    retries = [
        ln
        for ln in (await client.get("/metrics")).text.splitlines()
        if ln.startswith("studio_backend_retries_total")
    ]
    checks.check(events[-1].event == "completed", "episode completed through injected faults")
    print("   ", *retries, sep="\n    ")
    put = await client.put("/config", json={"comfyui_url": "http://127.0.0.1:1"})
    health = await client.get("/health")
    checks.check(
        put.json()["reconnected"] == ["comfyui"]
        and health.status_code == 503
        and health.json()["dependencies"]["comfyui"]["status"] == "error",
        "wrong ComfyUI address -> /health 503 with comfyui error",
    )
    _, events = await run_episode("Wrong address")
    checks.check(
        events[-1].event == "failed" and "comfyui" in str(events[-1].data.get("error")),
        f"episode fails clearly: {events[-1].data.get('error')}",
    )
    await client.put("/config", json={"comfyui_url": config["comfyui_url"]})
    health = await client.get("/health")
    _, events = await run_episode("Address restored")
    checks.check(
        health.status_code == 200 and events[-1].event == "completed",
        "address restored -> healthy again and the next episode completes",
    )


async def run(
    base: str,
    episodes: int,
    with_scenarios: bool = False,
    stack: str = "hx-local",
    via: str | None = "studio",
) -> int:
    """The whole demo; returns the exit status (`stack`, `via`: see `scenarios`)."""
    checks = Checks()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        health = await client.get("/health")
        print(f"health {health.status_code}: {health.json()['status']}")
        checks.check(health.status_code == 200, "every dependency healthy")
        project = (
            await client.post(
                "/projects", json={"name": "Nebula Nights", "description": "space opera"}
            )
        ).json()
        print(f"project {project['id']}")
        keys = [str(uuid.uuid4()) for _ in range(episodes)]
        bodies = [
            {
                "title": f"Episode about sector {i + 1}",
                "premise": f"The crew explores sector {i + 1} and finds an old signal.",
                "characters": [
                    {"name": "Captain Mira", "description": "starship captain"},
                    {"name": f"Signal {i + 1}", "description": "an ancient AI voice"},
                ],
            }
            for i in range(episodes)
        ]
        started = time.monotonic()
        path = f"/projects/{project['id']}/episodes"
        posts = [
            client.post(path, json=b, headers={"Idempotency-Key": k})
            for b, k in zip(bodies, keys, strict=True)
        ]
        posts.append(client.post(path, json=bodies[0], headers={"Idempotency-Key": keys[0]}))
        replies = await asyncio.gather(*posts)
        created = [r.json() for r in replies[:episodes]]
        replay = replies[-1]
        numbers = sorted(e["number"] for e in created)
        checks.check(all(r.status_code == 201 for r in replies), "all creations answered 201")
        checks.check(numbers == list(range(1, episodes + 1)), f"episode numbers {numbers}")
        checks.check(
            replay.json()["id"] == created[0]["id"]
            and replay.headers.get("Idempotent-Replayed") == "true",
            "retried Idempotency-Key returned the same episode",
        )
        conflict = await client.post(
            path, json={"title": "other"}, headers={"Idempotency-Key": keys[0]}
        )
        checks.check(conflict.status_code == 422, f"same key, other body -> {conflict.status_code}")
        streams = await asyncio.gather(
            *(
                follow(client, e["id"], cut_after=3 if i == 0 else None)
                for i, e in enumerate(created)
            )
        )
        elapsed = time.monotonic() - started
        for episode, events in zip(created, streams, strict=True):
            ids = [e.id for e in events]
            kinds = [e.event for e in events]
            final = (await client.get(f"/episodes/{episode['id']}")).json()
            print(
                f"episode {final['number']} {episode['id'][:8]}: {len(events)} events, "
                f"state={final['state']}, vod={final['vod'] and final['vod']['url']}"
            )
            checks.check(len(ids) == len(set(ids)) and all(ids), "event ids unique and present")
            checks.check(
                kinds[0] == "queued" and kinds[-1] == "completed",
                f"events {kinds[0]} ... {kinds[-1]}",
            )
            checks.check(
                final["state"] == "completed" and bool(final["vod"]["url"]),
                "episode completed with a VOD url",
            )
        # a resumed stream after the terminal event ends at once with nothing new
        last = streams[1][-1].id
        tail = await read_sse(client, f"/episodes/{created[1]['id']}/events", last_id=last)
        checks.check(tail == [], "resume after the terminal event yields nothing")
        listing = (await client.get(f"/projects/{project['id']}/episodes")).json()["episodes"]
        checks.check(
            [e["number"] for e in listing] == list(range(1, episodes + 1)),
            "GET /projects/{id}/episodes ordered by number",
        )
        await tools_demo(base, project["id"], checks)
        metrics = (await client.get("/metrics")).text
        lines = [
            ln
            for ln in metrics.splitlines()
            if ln.startswith(("studio_episodes{", "studio_backend_retries_total"))
        ]
        print("metrics:", *lines[:12], sep="\n  ")
        print(f"{episodes} episodes created and completed in {elapsed:.1f}s")
        if with_scenarios:
            print("scenarios:")
            await scenarios(client, checks, stack, via)
    print("PASS" if checks.failures == 0 else f"{checks.failures} check(s) FAILED")
    return 0 if checks.failures == 0 else 1


def main() -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="http://127.0.0.1:8765")
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument(
        "--scenarios",
        action="store_true",
        help="also: failed episode, HTTP faults in front of the mocks, wrong/restored address",
    )
    parser.add_argument(
        "--project",
        default=os.environ.get("HARNESS_UP_PROJECT") or "hx-local",
        help="--scenarios: the harness stack the studio runs on (default: `harness up`'s)",
    )
    parser.add_argument(
        "--via",
        default="studio",
        help="--scenarios: the service under test the studio runs as, whose links to the "
        "backends get the faults ('' for the stack's default proxies)",
    )
    args = parser.parse_args()
    sys.exit(
        asyncio.run(
            run(
                args.base.rstrip("/"),
                args.episodes,
                args.scenarios,
                args.project,
                args.via or None,
            )
        )
    )


if __name__ == "__main__":
    main()
