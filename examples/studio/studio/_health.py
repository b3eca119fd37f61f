"""GET /health: one quick probe per dependency (no retries: it reports the present state)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from ._context import Context
from ._retry import describe


async def _probe(check: Callable[[], Awaitable[str]], timeout: float) -> dict[str, Any]:
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            detail = await check()
        result: dict[str, Any] = {"status": "ok", "message": detail}
    except Exception as exc:
        result = {"status": "error", "message": describe(exc) or "timed out"}
    result["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


async def check_all(ctx: Context) -> dict[str, Any]:
    """{"status": "ok"|"degraded", "dependencies": {name: {status, message, latency_ms}}}."""
    settings = ctx.settings

    async def redis() -> str:
        await ctx.backends.redis().ping()
        return f"PONG from {settings.redis_url}"

    async def chromadb() -> str:
        beat = await ctx.characters.heartbeat()
        return f"heartbeat {beat} ({settings.chroma_tenant}/{settings.chroma_database})"

    async def litellm() -> str:
        models = await ctx.backends.llm().models.list()
        names = sorted(m.id for m in models.data)
        missing = {settings.chat_model, settings.embed_model} - set(names)
        if missing:
            raise LookupError(f"models missing on the proxy: {', '.join(sorted(missing))}")
        return f"models {', '.join(names)}"

    async def comfyui() -> str:
        stats = await ctx.comfyui.system_stats()
        return f"ComfyUI {stats.get('system', {}).get('comfyui_version', '?')}"

    async def wan2gp() -> str:
        async with httpx.AsyncClient(headers=settings.mock_headers()) as client:
            resp = await client.get(f"{settings.wan2gp_url}/config")
            resp.raise_for_status()
            return f"Gradio {resp.json().get('version', '?')} ({resp.json().get('title', '?')})"

    async def cablecast() -> str:
        await ctx.cablecast.ping()
        return "authenticated"

    checks = {
        "redis": redis,
        "chromadb": chromadb,
        "litellm": litellm,
        "comfyui": comfyui,
        "wan2gp": wan2gp,
        "cablecast": cablecast,
    }
    results = await asyncio.gather(*(_probe(fn, settings.health_timeout) for fn in checks.values()))
    dependencies = dict(zip(checks, results, strict=True))
    healthy = all(r["status"] == "ok" for r in results)
    return {"status": "ok" if healthy else "degraded", "dependencies": dependencies}
