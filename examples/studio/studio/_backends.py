"""Backend clients built lazily from the current settings; a config change rebuilds them."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlsplit

import chromadb
import httpx
import openai
from chromadb.config import Settings as ChromaSettings
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ._metrics import Metrics
from ._retry import RetryPolicy
from ._settings import StudioSettings, changed_backends


def host_port(url: str, default_port: int) -> tuple[str, int, bool]:
    """(host, port, ssl) of an http(s) URL."""
    parts = urlsplit(url)
    ssl = parts.scheme == "https"
    return parts.hostname or "127.0.0.1", parts.port or (443 if ssl else default_port), ssl


def _connect_chroma(settings: StudioSettings) -> Any:
    """chromadb.HttpClient on the configured tenant/database (created when missing)."""
    host, port, ssl = host_port(settings.chroma_url, 8000)
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if (settings.chroma_tenant, settings.chroma_database) != ("default_tenant", "default_database"):
        admin = chromadb.AdminClient(
            ChromaSettings(
                chroma_api_impl="chromadb.api.fastapi.FastAPI",
                chroma_server_host=host,
                chroma_server_http_port=port,
                chroma_server_ssl_enabled=ssl,
                anonymized_telemetry=False,
            )
        )
        try:
            admin.get_tenant(settings.chroma_tenant)
        except Exception:
            with contextlib.suppress(Exception):  # lost a creation race: fine
                admin.create_tenant(settings.chroma_tenant)
        try:
            admin.get_database(settings.chroma_database, tenant=settings.chroma_tenant)
        except Exception:
            with contextlib.suppress(Exception):
                admin.create_database(settings.chroma_database, tenant=settings.chroma_tenant)
    return chromadb.HttpClient(
        host=host,
        port=port,
        ssl=ssl,
        tenant=settings.chroma_tenant,
        database=settings.chroma_database,
        settings=chroma_settings,
    )


class Backends:
    """Current settings plus one client per backend (created on first use)."""

    def __init__(self, settings: StudioSettings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self._redis: Redis | None = None
        self._chroma: Any = None
        self._chroma_lock = asyncio.Lock()
        self._llm: openai.AsyncOpenAI | None = None
        self._comfyui: httpx.AsyncClient | None = None
        self._cablecast: httpx.AsyncClient | None = None
        self.generation = 0  # bumped on every reconfiguration

    # -- policy -----------------------------------------------------------------------------
    def policy(self) -> RetryPolicy:
        """Retry policy from the current settings."""
        s = self.settings
        return RetryPolicy(s.retry_attempts, s.call_timeout, s.retry_backoff, s.retry_backoff_max)

    # -- clients ----------------------------------------------------------------------------
    def redis(self) -> Redis:
        """redis.asyncio client (connections are opened on demand)."""
        if self._redis is None:
            self._redis = Redis.from_url(
                self.settings.redis_url,
                decode_responses=True,
                socket_connect_timeout=self.settings.call_timeout,
                # above the longest blocking read (XREAD BLOCK 5 s): asyncio timeouts bound calls
                socket_timeout=self.settings.call_timeout + 10,
                retry=Retry(NoBackoff(), 0),  # tenacity does the retrying
                health_check_interval=15,
            )
        return self._redis

    async def chroma(self) -> Any:
        """chromadb.HttpClient (its constructor talks to the server, so it runs in a thread)."""
        async with self._chroma_lock:
            if self._chroma is None:
                self._chroma = await asyncio.to_thread(_connect_chroma, self.settings)
            return self._chroma

    def llm(self) -> openai.AsyncOpenAI:
        """openai client on the LiteLLM proxy (its own retries off: tenacity does them)."""
        if self._llm is None:
            self._llm = openai.AsyncOpenAI(
                base_url=f"{self.settings.litellm_url}/v1",
                api_key=self.settings.litellm_key or "none",
                max_retries=0,
                timeout=self.settings.call_timeout,
            )
        return self._llm

    def comfyui(self) -> httpx.AsyncClient:
        """httpx client on ComfyUI with the namespace header."""
        if self._comfyui is None:
            self._comfyui = httpx.AsyncClient(
                base_url=self.settings.comfyui_url,
                headers=self.settings.mock_headers(),
                timeout=self.settings.call_timeout,
            )
        return self._comfyui

    def comfyui_ws_url(self, client_id: str) -> str:
        """ComfyUI's websocket address for `client_id`."""
        base = self.settings.comfyui_url.replace("https://", "wss://").replace("http://", "ws://")
        return f"{base}/ws?clientId={client_id}"

    def cablecast(self) -> httpx.AsyncClient:
        """httpx client on the Cablecast API (Basic auth, namespace header)."""
        if self._cablecast is None:
            s = self.settings
            self._cablecast = httpx.AsyncClient(
                base_url=f"{s.cablecast_url}/cablecastapi/v1",
                headers=s.mock_headers(),
                auth=(s.cablecast_user, s.cablecast_password),
                timeout=s.call_timeout,
            )
        return self._cablecast

    # -- lifecycle --------------------------------------------------------------------------
    async def reconfigure(self, new: StudioSettings) -> set[str]:
        """Switch to `new` settings; drop (and close) the clients whose configuration changed."""
        changed = changed_backends(self.settings, new)
        if new.call_timeout != self.settings.call_timeout:
            changed |= {"redis", "litellm", "comfyui", "cablecast"}
        self.settings = new
        self.generation += 1
        await self._drop(changed)
        return changed

    async def _drop(self, names: set[str]) -> None:
        closing: list[Any] = []
        if "redis" in names and self._redis is not None:
            closing.append(self._redis.aclose())
            self._redis = None
        if "chromadb" in names:
            self._chroma = None
        if "litellm" in names and self._llm is not None:
            closing.append(self._llm.close())
            self._llm = None
        if "comfyui" in names and self._comfyui is not None:
            closing.append(self._comfyui.aclose())
            self._comfyui = None
        if "cablecast" in names and self._cablecast is not None:
            closing.append(self._cablecast.aclose())
            self._cablecast = None
        for result in await asyncio.gather(*closing, return_exceptions=True):
            del result  # closing errors do not matter

    async def close(self) -> None:
        """Close every client."""
        await self._drop({"redis", "chromadb", "litellm", "comfyui", "cablecast"})
