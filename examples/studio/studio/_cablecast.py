"""Cablecast publishing: create a show and a VOD, follow the VOD status until complete.

Retried creations look for what an earlier attempt may already have created (the show carries
the episode id in custom1; a show's VODs are listed with ?show=), so nothing is created twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from ._backends import Backends
from ._errors import PipelineError
from ._retry import call

FAILED_STATES = frozenset({"error", "permanentFailure", "disabled"})

StatusCallback = Callable[[dict[str, Any]], Awaitable[None]]


def _check(resp: httpx.Response) -> dict[str, Any]:
    if resp.status_code in (400, 401, 403, 404):
        try:
            message = resp.json().get("message", resp.text)
        except ValueError:
            message = resp.text
        raise PipelineError(f"Cablecast answered {resp.status_code}: {message}")
    resp.raise_for_status()
    body: dict[str, Any] = resp.json()
    return body


class Cablecast:
    """Shows and VODs on Cablecast."""

    def __init__(self, backends: Backends) -> None:
        self.backends = backends

    async def _call(self, operation: str, fn: Callable[[int], Awaitable[Any]]) -> Any:
        return await call("cablecast", operation, fn, self.backends.policy(), self.backends.metrics)

    async def find_show(self, episode_id: str) -> int | None:
        """The show an earlier attempt created for `episode_id`, if any."""
        query = {
            "savedShowSearch": {
                "query": {
                    "groups": [
                        {
                            "orAnd": "and",
                            "filters": [
                                {
                                    "field": "custom1",
                                    "operator": "equals",
                                    "searchValue": episode_id,
                                }
                            ],
                        }
                    ],
                    "sortOptions": [],
                },
                "name": "",
            }
        }

        async def search(_n: int) -> int | None:
            body = _check(
                await self.backends.cablecast().post("/shows/search/advanced", json=query)
            )
            results = body.get("savedShowSearch", {}).get("results") or []
            return int(results[0]) if results else None

        result: int | None = await self._call("find_show", search)
        return result

    async def create_show(self, episode_id: str, title: str, comments: str) -> int:
        """Create (or find) the episode's show; its id."""

        async def create(number: int) -> int:
            if number > 1:
                existing = await self.find_show(episode_id)
                if existing is not None:
                    return existing
            show = {"title": title, "cgTitle": title, "comments": comments, "custom1": episode_id}
            body = _check(await self.backends.cablecast().post("/shows", json={"show": show}))
            return int(body["show"]["id"])

        result: int = await self._call("create_show", create)
        return result

    async def create_vod(self, show_id: int, file_name: str) -> dict[str, Any]:
        """Create (or find) the show's VOD; the VOD record."""

        async def create(number: int) -> dict[str, Any]:
            client = self.backends.cablecast()
            if number > 1:
                listed = _check(await client.get("/vods", params={"show": show_id}))
                if listed.get("vods"):
                    vod: dict[str, Any] = listed["vods"][0]
                    return vod
            body = _check(
                await client.post("/vods", json={"vod": {"show": show_id, "fileName": file_name}})
            )
            created: dict[str, Any] = body["vod"]
            return created

        result: dict[str, Any] = await self._call("create_vod", create)
        return result

    async def vod_status(self, vod_id: int) -> dict[str, Any]:
        """The VodStatus of a VOD."""

        async def status(_n: int) -> dict[str, Any]:
            body = _check(await self.backends.cablecast().get(f"/vods/{vod_id}/status"))
            result: dict[str, Any] = body["vodStatus"]
            return result

        result: dict[str, Any] = await self._call("vod_status", status)
        return result

    async def get_vod(self, vod_id: int) -> dict[str, Any]:
        """The VOD record (url and embedCode are filled in once complete)."""

        async def fetch(_n: int) -> dict[str, Any]:
            result: dict[str, Any] = _check(await self.backends.cablecast().get(f"/vods/{vod_id}"))
            return result["vod"]

        result: dict[str, Any] = await self._call("get_vod", fetch)
        return result

    async def follow(self, vod_id: int, on_change: StatusCallback) -> dict[str, Any]:
        """Poll the VOD status until complete (PipelineError on failure or deadline)."""
        settings = self.backends.settings
        deadline = time.monotonic() + settings.render_timeout
        last: tuple[str, int] | None = None
        while True:
            status = await self.vod_status(vod_id)
            state = str(status.get("vodState"))
            key = (state, int(status.get("percentComplete") or 0))
            if key != last:
                last = key
                await on_change(status)
            if state == "complete":
                return status
            if state in FAILED_STATES:
                raise PipelineError(
                    f"Cablecast VOD {vod_id} {state}: {status.get('errorMessage') or 'no message'}"
                )
            if time.monotonic() > deadline:
                raise PipelineError(f"Cablecast VOD {vod_id} not complete after the deadline")
            await asyncio.sleep(settings.vod_poll_interval)  # poll interval of the status API

    async def ping(self) -> None:
        """An authenticated read (health check, one attempt)."""
        resp = await self.backends.cablecast().get(
            "/vodtransactions",
            params={"vod": 0},
            timeout=self.backends.settings.health_timeout,
        )
        _check(resp)
