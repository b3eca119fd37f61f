"""Per-namespace ComfyUI state: queue, history, WebSocket clients and file folders."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import WebSocket

from . import _images

FOLDER_TYPES = ("input", "output", "temp")


@dataclass
class Config:
    """Mock settings (command line / environment)."""

    root: Path
    step_seconds: float = 0.01
    previews: bool = True
    seed: int = 0


@dataclass(order=True)
class QueueItem:
    """One queued prompt; ordered like ComfyUI's heap of (number, prompt_id, ...)."""

    number: float
    prompt_id: str
    prompt: dict[str, Any] = field(compare=False)
    extra_data: dict[str, Any] = field(compare=False)
    outputs: list[str] = field(compare=False)

    def as_list(self) -> list[Any]:
        """[number, prompt_id, prompt, extra_data, outputs_to_execute] as in GET /queue."""
        return [self.number, self.prompt_id, self.prompt, self.extra_data, self.outputs]


@dataclass
class CacheEntry:
    """A node's outputs and UI kept in the output cache (comfy_execution/caching.py)."""

    outputs: Any
    ui: dict[str, Any] | None


class Client:
    """A connected /ws socket with a send lock (worker and handler both send)."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.lock = asyncio.Lock()
        self.feature_flags: dict[str, Any] = {}

    async def send_json(self, message: dict[str, Any]) -> None:
        """Send a text frame; a closed socket is ignored like ComfyUI does."""
        with contextlib.suppress(Exception):
            async with self.lock:
                await self.websocket.send_json(message)

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame; a closed socket is ignored."""
        with contextlib.suppress(Exception):
            async with self.lock:
                await self.websocket.send_bytes(data)


class Space:
    """Everything one namespace sees: an isolated ComfyUI."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root
        self.queue: list[QueueItem] = []
        self.running: QueueItem | None = None
        self.history: dict[str, dict[str, Any]] = {}
        self.clients: dict[str, Client] = {}
        self.number = 0
        self.wakeup = asyncio.Event()
        self.interrupted = False
        self.client_id: str | None = None
        self.last_node_id: str | None = None
        self.worker: asyncio.Task[None] | None = None
        self.cache: dict[str, CacheEntry] = {}
        for kind in FOLDER_TYPES:
            (root / kind).mkdir(parents=True, exist_ok=True)
        example = root / "input" / "example.png"
        if not example.exists():
            example.write_bytes(_images.png_bytes(_images.generate(0, 0, 64, 64)))

    def folder(self, kind: str) -> Path | None:
        """Folder for a `type` (input/output/temp), or None for an unknown type."""
        return self.root / kind if kind in FOLDER_TYPES else None

    def input_files(self) -> list[str]:
        """Files in the input folder (what LoadImage offers), relative paths."""
        base = self.root / "input"
        return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())

    def remaining(self) -> int:
        """queue_remaining: pending plus running."""
        return len(self.queue) + (1 if self.running is not None else 0)

    def queue_info(self) -> dict[str, Any]:
        """{"exec_info": {"queue_remaining": N}}."""
        return {"exec_info": {"queue_remaining": self.remaining()}}

    def put(self, item: QueueItem) -> None:
        """Queue a prompt and wake the worker."""
        heapq.heappush(self.queue, item)
        self.wakeup.set()

    def pop(self) -> QueueItem | None:
        """Take the next prompt (lowest number) and mark it running."""
        if not self.queue:
            return None
        self.running = heapq.heappop(self.queue)
        return self.running

    def delete_pending(self, prompt_id: str) -> bool:
        """Remove a pending prompt by id."""
        for i, item in enumerate(self.queue):
            if item.prompt_id == prompt_id:
                self.queue.pop(i)
                heapq.heapify(self.queue)
                return True
        return False

    async def send_json(self, event: str, data: dict[str, Any], sid: str | None) -> None:
        """Send {"type","data"} to one client id, or to every client of the namespace."""
        message = {"type": event, "data": data}
        if sid is None:
            for client in list(self.clients.values()):
                await client.send_json(message)
        elif sid in self.clients:
            await self.clients[sid].send_json(message)

    async def send_bytes(self, data: bytes, sid: str | None) -> None:
        """Send a binary frame to one client id, or to every client of the namespace."""
        if sid is None:
            for client in list(self.clients.values()):
                await client.send_bytes(data)
        elif sid in self.clients:
            await self.clients[sid].send_bytes(data)

    async def queue_updated(self) -> None:
        """Broadcast `status` (no sid) like ComfyUI on every queue change."""
        await self.send_json("status", {"status": self.queue_info()}, None)

    def close(self) -> None:
        """Stop the worker and remove the namespace's files."""
        if self.worker is not None:
            self.worker.cancel()
        shutil.rmtree(self.root, ignore_errors=True)


class Hub:
    """All namespaces of one mock process."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.spaces: dict[str, Space] = {}

    def space(self, name: str) -> Space:
        """Namespace state, created on first use."""
        space = self.spaces.get(name)
        if space is None:
            space = Space(name, self.config.root / name)
            self.spaces[name] = space
        return space

    def reset(self, name: str | None) -> None:
        """Forget one namespace (all when None); open sockets stay connected."""
        names = list(self.spaces) if name is None else [name]
        for n in names:
            old = self.spaces.pop(n, None)
            if old is None:
                continue
            old.close()
            fresh = self.space(n)
            fresh.clients = old.clients
