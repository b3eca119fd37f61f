"""ComfyUI keyframes over its WebSocket: POST /prompt with client_id, wait for `executing`
with node null, then GET /history/{id} and /view for each image.

The prompt id is chosen here, so a retry after a dropped socket or a lost reply first asks
/history and /queue whether the prompt already ran or is queued instead of submitting twice.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import websockets

from ._backends import Backends
from ._errors import PipelineError
from ._retry import call

CHECKPOINT = "v1-5-pruned-emaonly.safetensors"
GRAPH: dict[str, Any] = {
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "cfg": 7,
            "denoise": 1,
            "latent_image": ["5", 0],
            "model": ["4", 0],
            "negative": ["7", 0],
            "positive": ["6", 0],
            "sampler_name": "euler",
            "scheduler": "normal",
            "seed": 0,
            "steps": 4,
        },
    },
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": CHECKPOINT}},
    "5": {
        "class_type": "EmptyLatentImage",
        "inputs": {"batch_size": 1, "height": 256, "width": 256},
    },
    "6": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["4", 1], "text": ""}},
    "7": {
        "class_type": "CLIPTextEncode",
        "inputs": {"clip": ["4", 1], "text": "blurry, low quality"},
    },
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "studio", "images": ["8", 0]}},
}

Progress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class Image:
    """One rendered keyframe."""

    filename: str
    subfolder: str
    type: str
    data: bytes


def build_graph(text: str, seed: int, steps: int, size: int, prefix: str) -> dict[str, Any]:
    """The txt2img graph for one keyframe."""
    graph = copy.deepcopy(GRAPH)
    graph["3"]["inputs"].update(seed=seed, steps=steps)
    graph["5"]["inputs"].update(width=size, height=size)
    graph["6"]["inputs"]["text"] = text
    graph["9"]["inputs"]["filename_prefix"] = prefix
    return graph


class ComfyUI:
    """Render keyframes on ComfyUI."""

    def __init__(self, backends: Backends) -> None:
        self.backends = backends

    async def render(
        self, text: str, seed: int, prefix: str, progress: Progress | None = None
    ) -> list[Image]:
        """Render one keyframe graph and return its saved images."""
        settings = self.backends.settings
        graph = build_graph(text, seed, settings.keyframe_steps, settings.keyframe_size, prefix)
        prompt_id = str(uuid.uuid4())
        client_id = uuid.uuid4().hex

        async def attempt(number: int) -> list[Image]:
            http = self.backends.comfyui()
            headers = self.backends.settings.mock_headers()
            url = self.backends.comfyui_ws_url(client_id)
            async with websockets.connect(
                url, additional_headers=headers, open_timeout=settings.call_timeout, max_size=None
            ) as ws:
                entry = await self._history(http, prompt_id)
                if entry is None:
                    if number == 1 or not await self._queued(http, prompt_id):
                        await self._submit(http, graph, prompt_id, client_id)
                    await self._wait(ws, prompt_id, progress)
                    entry = await self._history(http, prompt_id)
            if entry is None:
                raise PipelineError(f"ComfyUI finished prompt {prompt_id} without a history entry")
            return await self._images(http, prompt_id, entry)

        return await call(
            "comfyui",
            "render_keyframe",
            attempt,
            self.backends.policy(),
            self.backends.metrics,
            timeout=settings.render_timeout,
        )

    async def _submit(
        self, http: httpx.AsyncClient, graph: dict[str, Any], prompt_id: str, client_id: str
    ) -> None:
        resp = await http.post(
            "/prompt", json={"prompt": graph, "client_id": client_id, "prompt_id": prompt_id}
        )
        if resp.status_code == 400:
            error = resp.json().get("error")
            message = error.get("message") if isinstance(error, dict) else error
            raise PipelineError(f"ComfyUI rejected the prompt: {message}")
        resp.raise_for_status()

    async def _queued(self, http: httpx.AsyncClient, prompt_id: str) -> bool:
        resp = await http.get("/queue")
        resp.raise_for_status()
        queue = resp.json()
        items = [*queue.get("queue_running", []), *queue.get("queue_pending", [])]
        return any(len(item) > 1 and item[1] == prompt_id for item in items)

    async def _history(self, http: httpx.AsyncClient, prompt_id: str) -> dict[str, Any] | None:
        resp = await http.get(f"/history/{prompt_id}")
        resp.raise_for_status()
        entry = resp.json().get(prompt_id)
        return entry if isinstance(entry, dict) else None

    async def _wait(self, ws: Any, prompt_id: str, progress: Progress | None) -> None:
        async for frame in ws:
            if not isinstance(frame, str):
                continue  # binary preview images
            message = json.loads(frame)
            data = message.get("data") or {}
            if data.get("prompt_id") != prompt_id:
                continue
            kind = message.get("type")
            if kind == "progress" and progress is not None:
                await progress(int(data.get("value", 0)), int(data.get("max", 0)))
            elif kind == "execution_error":
                raise PipelineError(
                    f"ComfyUI node {data.get('node_id')} ({data.get('node_type')}) failed: "
                    f"{data.get('exception_message', '').strip()}"
                )
            elif kind == "execution_interrupted":
                raise PipelineError("ComfyUI interrupted the prompt")
            elif kind == "executing" and data.get("node") is None:
                return
        raise ConnectionError("ComfyUI websocket closed before the prompt finished")

    async def _images(
        self, http: httpx.AsyncClient, prompt_id: str, entry: dict[str, Any]
    ) -> list[Image]:
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            raise PipelineError(f"ComfyUI prompt {prompt_id} ended with an error")
        images: list[Image] = []
        for output in (entry.get("outputs") or {}).values():
            for image in output.get("images", []):
                params = {
                    "filename": image["filename"],
                    "subfolder": image.get("subfolder", ""),
                    "type": image.get("type", "output"),
                }
                resp = await http.get("/view", params=params)
                resp.raise_for_status()
                images.append(
                    Image(params["filename"], params["subfolder"], params["type"], resp.content)
                )
        if not images:
            raise PipelineError(f"ComfyUI prompt {prompt_id} produced no images")
        return images

    async def system_stats(self) -> dict[str, Any]:
        """GET /system_stats (health check, one attempt)."""
        resp = await self.backends.comfyui().get(
            "/system_stats", timeout=self.backends.settings.health_timeout
        )
        resp.raise_for_status()
        result: dict[str, Any] = resp.json()
        return result
