"""The episode pipeline: script -> cast -> keyframes -> clip -> VOD, resumable step by step.

Each step's outputs are stored on the episode together with its `step_completed` event, so a
run that is interrupted (crash, requeued job) skips the finished steps. A step whose backend is
unreachable waits for it (up to `outage_timeout`); a step that fails otherwise marks the episode
failed with a terminal event; the episode keeps its number.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ._context import Context
from ._errors import BackendError, StudioError
from ._events import TERMINAL
from ._retry import describe
from ._store import JSON_FIELDS
from ._wan2gp import ClipRequest

log = logging.getLogger("studio.pipeline")

Step = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def slug(text: str) -> str:
    """Lower-case id fragment of `text`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "x"


def encode(fields: dict[str, Any]) -> dict[str, str]:
    """Episode fields as Redis hash strings (structured ones as JSON)."""
    return {
        k: json.dumps(v) if k in JSON_FIELDS else str(v) for k, v in fields.items() if v is not None
    }


def default_characters(episode: dict[str, Any]) -> list[dict[str, str]]:
    """Characters given with the episode, or a lead derived from its title and premise."""
    given = episode.get("characters") or []
    if given:
        return [{"name": str(c["name"]), "description": str(c["description"])} for c in given]
    return [
        {
            "name": f"Lead of {episode['title'] or 'the episode'}",
            "description": episode.get("premise") or episode.get("title") or "a protagonist",
        }
    ]


class Pipeline:
    """Runs one episode through every step."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.steps: list[tuple[str, str, Step]] = [
            ("scripting", "script", self.write_script),
            ("casting", "cast", self.cast),
            ("rendering_keyframes", "keyframes", self.render_keyframes),
            ("rendering_clip", "clip", self.render_clip),
            ("publishing", "vod", self.publish),
        ]

    async def progress(self, episode: dict[str, Any], kind: str, data: dict[str, Any]) -> None:
        """Emit a progress event (no state change)."""
        await self.ctx.events.publish(episode["id"], kind, data)

    async def run(self, episode_id: str) -> str:
        """Run the remaining steps; returns the final state."""
        episode = await self.ctx.store.get_episode(episode_id)
        if episode["state"] in TERMINAL:
            return str(episode["state"])
        events, metrics = self.ctx.events, self.ctx.metrics
        for state, output, step in self.steps:
            if episode.get(output):
                continue  # done by an earlier run
            await events.publish(
                episode_id, "step_started", {"step": state}, state=state, fields={"step": state}
            )
            started = time.monotonic()
            try:
                outputs = await self.attempt(episode, state, step)
            except Exception as exc:
                metrics.step_duration.labels(step=state, outcome="error").observe(
                    time.monotonic() - started
                )
                message = exc.message if isinstance(exc, StudioError) else describe(exc)
                if not isinstance(exc, StudioError):
                    log.exception("episode %s: step %s crashed", episode_id, state)
                await events.publish(
                    episode_id,
                    "failed",
                    {"step": state, "error": message},
                    state="failed",
                    fields={"error": message},
                )
                return "failed"
            elapsed = time.monotonic() - started
            metrics.step_duration.labels(step=state, outcome="ok").observe(elapsed)
            episode.update(outputs)
            summary = {k: v for k, v in outputs.items() if k not in ("script",)}
            await events.publish(
                episode_id,
                "step_completed",
                {"step": state, "seconds": round(elapsed, 3), **summary},
                fields=encode(outputs),
            )
        vod = episode.get("vod") or {}
        await events.publish(
            episode_id,
            "completed",
            {"vod_url": vod.get("url"), "vod_id": vod.get("id"), "number": episode["number"]},
            state="completed",
            fields={"step": ""},
        )
        return "completed"

    async def attempt(self, episode: dict[str, Any], state: str, step: Step) -> dict[str, Any]:
        """Run one step; while its backend is unreachable, wait and run it again.

        A backend that stays unreachable past `outage_timeout` fails the step, as does any
        non-transient error at once. Each wait is announced with a `step_retrying` event (when
        Redis is up to carry it): the episode is neither lost nor failed by a restart.
        """
        settings = self.ctx.settings
        deadline = time.monotonic() + settings.outage_timeout
        while True:
            try:
                return await step(episode)
            except BackendError as exc:
                if not exc.transient or time.monotonic() >= deadline:
                    raise
                log.warning("episode %s: %s; waiting for %s", episode["id"], state, exc.backend)
                with contextlib.suppress(StudioError):
                    await self.progress(
                        episode,
                        "step_retrying",
                        {"step": state, "backend": exc.backend, "error": exc.message},
                    )
                await asyncio.sleep(settings.outage_retry_interval)

    # -- steps -------------------------------------------------------------------------------
    async def write_script(self, episode: dict[str, Any]) -> dict[str, Any]:
        project = await self.ctx.store.get_project(episode["project_id"])
        script = await self.ctx.llm.write_script(
            project["name"], episode["number"], episode["title"], episode.get("premise") or ""
        )
        return {"script": script}

    async def cast(self, episode: dict[str, Any]) -> dict[str, Any]:
        cast: list[dict[str, str]] = []
        similar: dict[str, list[dict[str, Any]]] = {}
        own = {f"{episode['id']}-{slug(c['name'])}" for c in default_characters(episode)}
        for character in default_characters(episode):
            character_id = f"{episode['id']}-{slug(character['name'])}"
            vector = await self.ctx.llm.embed(f"{character['name']}: {character['description']}")
            similar[character["name"]] = await self.ctx.characters.similar(
                episode["project_id"], vector, self.ctx.settings.similar_limit, exclude=own
            )
            await self.ctx.characters.add(
                episode["project_id"],
                character_id,
                character["name"],
                character["description"],
                vector,
            )
            cast.append({"id": character_id, **character})
            await self.progress(
                episode,
                "character_added",
                {"character": character["name"], "similar": len(similar[character["name"]])},
            )
        return {"cast": cast, "similar": similar}

    async def render_keyframes(self, episode: dict[str, Any]) -> dict[str, Any]:
        folder = self.ctx.media_dir(episode["id"])
        keyframes: list[dict[str, Any]] = []
        total = self.ctx.settings.keyframes
        for index in range(total):

            async def on_progress(value: int, maximum: int, index: int = index) -> None:
                await self.progress(
                    episode,
                    "keyframe_progress",
                    {"keyframe": index + 1, "of": total, "value": value, "max": maximum},
                )

            text = f"{episode['title']}, keyframe {index + 1}: {episode.get('premise') or ''}"
            images = await self.ctx.comfyui.render(
                text,
                seed=episode["number"] * 1000 + index,
                prefix=f"studio_{episode['id'][:8]}_{index + 1}",
                progress=on_progress,
            )
            for image in images:
                path = folder / f"keyframe-{index + 1}-{image.filename}"
                path.write_bytes(image.data)
                keyframes.append(
                    {
                        "path": str(path),
                        "comfyui_filename": image.filename,
                        "bytes": len(image.data),
                        "sha256": hashlib.sha256(image.data).hexdigest(),
                    }
                )
        return {"keyframes": keyframes}

    async def render_clip(self, episode: dict[str, Any]) -> dict[str, Any]:
        settings = self.ctx.settings
        request = ClipRequest(
            prompt=f"{episode['title']}: {episode.get('premise') or ''}".strip()[:300],
            frames=settings.clip_frames,
            steps=settings.clip_steps,
            seed=episode["number"],
            resolution=settings.clip_resolution,
        )
        path = await self.ctx.wan2gp.render(request, self.ctx.media_dir(episode["id"]) / "clip.mp4")
        data = path.read_bytes()
        return {
            "clip": {
                "path": str(path),
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "frames": settings.clip_frames,
            }
        }

    async def publish(self, episode: dict[str, Any]) -> dict[str, Any]:
        cablecast, store = self.ctx.cablecast, self.ctx.store
        project = await store.get_project(episode["project_id"])
        show_id = int(episode["show_id"]) if episode.get("show_id") else None
        if show_id is None:
            title = f"{project['name']} - Episode {episode['number']}: {episode['title']}"
            show_id = await cablecast.create_show(
                episode["id"], title, (episode.get("script") or "")[:500]
            )
            await store.set_fields(episode["id"], {"show_id": show_id})
            episode["show_id"] = str(show_id)
        vod_id = int(episode["vod_id"]) if episode.get("vod_id") else None
        if vod_id is None:
            vod = await cablecast.create_vod(show_id, f"studio-{episode['id']}")
            vod_id = int(vod["id"])
            await store.set_fields(episode["id"], {"vod_id": vod_id})
            episode["vod_id"] = str(vod_id)
        await self.progress(episode, "vod_created", {"show_id": show_id, "vod_id": vod_id})

        async def on_change(status: dict[str, Any]) -> None:
            await self.progress(
                episode,
                "vod_status",
                {
                    "vod_id": vod_id,
                    "vod_state": status.get("vodState"),
                    "percent": status.get("percentComplete"),
                },
            )

        await cablecast.follow(vod_id, on_change)
        record = await cablecast.get_vod(vod_id)
        return {
            "vod": {
                "id": vod_id,
                "show_id": show_id,
                "url": record.get("url"),
                "embed_code": record.get("embedCode"),
                "state": "complete",
            }
        }
