"""Runs prompts one at a time per namespace and emits ComfyUI's WebSocket messages."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
import traceback
from collections.abc import Iterable
from typing import Any

from . import _images, _nodes
from ._node_catalog import NODES
from ._node_types import MockExecutionError
from ._state import CacheEntry, Config, QueueItem, Space
from ._torch_repr import value_str

FLAG_FAIL_NODE = "comfyui.fail_node"
FLAG_STEP_SECONDS = "comfyui.step_seconds"
MAXIMUM_HISTORY_SIZE = 10000


class Interrupted(Exception):
    """ComfyUI's InterruptProcessingException."""


def now_ms() -> int:
    """Milliseconds since the epoch, as ComfyUI's timestamps."""
    return int(time.time() * 1000)


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2


def execution_order(
    prompt: dict[str, Any], outputs: Iterable[str], cached: Iterable[str] = ()
) -> list[str]:
    """Nodes staged for `outputs`, dependencies first.

    As ComfyUI's ExecutionList.add_node (comfy_execution/graph.py, v0.3.77): every output
    is staged, a cached dependency is not (its outputs come from the cache)."""
    order: list[str] = []
    seen: set[str] = set()
    skip = set(cached)

    def visit(node_id: str) -> None:
        if node_id in seen:
            return
        seen.add(node_id)
        for value in prompt[node_id].get("inputs", {}).values():
            if _is_link(value) and value[0] not in skip:
                visit(value[0])
        order.append(node_id)

    for out in outputs:
        visit(out)
    return order


def input_signatures(prompt: dict[str, Any], is_changed: Any) -> dict[str, str]:
    """Each node's cache key: class, IS_CHANGED and inputs, linked ancestors' keys included.

    ComfyUI v0.3.77 comfy_execution/caching.py CacheKeySetInputSignature: a node whose
    signature is unchanged is served from the output cache."""
    signatures: dict[str, str] = {}

    def signature(node_id: str, visiting: tuple[str, ...]) -> str:
        if node_id in signatures:
            return signatures[node_id]
        node = prompt[node_id]
        parts: list[Any] = [node["class_type"], is_changed(node_id)]
        for name in sorted(node.get("inputs", {})):
            value = node["inputs"][name]
            if _is_link(value) and value[0] in prompt and value[0] not in visiting:
                parts.append([name, signature(value[0], (*visiting, node_id)), value[1]])
            else:
                parts.append([name, value])
        # a digest, not the text: nesting the ancestors' JSON would double its escapes per
        # level and grow exponentially with the graph's depth
        text = json.dumps(parts, sort_keys=True, default=str)
        signatures[node_id] = hashlib.sha256(text.encode()).hexdigest()
        return signatures[node_id]

    for node_id in prompt:
        signature(node_id, ())
    return signatures


def _format_value(x: Any) -> Any:
    """execution.py format_value: primitives as they are, anything else as str()."""
    return x if x is None or isinstance(x, int | float | bool | str) else value_str(x)


HIDDEN_VALUES = ("PROMPT", "EXTRA_PNGINFO", "UNIQUE_ID")


class Run:
    """One prompt's execution."""

    def __init__(
        self, space: Space, item: QueueItem, config: Config, flags: dict[str, Any]
    ) -> None:
        self.space = space
        self.item = item
        self.config = config
        self.flags = flags
        self.client_id: str | None = item.extra_data.get("client_id")
        self.prompt_id = item.prompt_id
        self.messages: list[list[Any]] = []
        self.values: dict[str, Any] = {}
        self.executed: list[str] = []
        self.ui_outputs: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}
        self.node_progress: dict[str, dict[str, Any]] = {}
        self.node_id = ""
        self.root = space.root
        self.prompt = item.prompt
        self.extra_pnginfo: dict[str, Any] | None = item.extra_data.get("extra_pnginfo")
        self.success = True

    async def add_message(self, event: str, data: dict[str, Any], broadcast: bool) -> None:
        data = {**data, "timestamp": now_ms()}
        self.messages.append([event, data])
        if self.client_id is not None or broadcast:
            await self.space.send_json(event, data, self.client_id)

    async def to_client(self, event: str, data: dict[str, Any]) -> None:
        if self.client_id is not None:
            await self.space.send_json(event, data, self.client_id)

    def check_interrupt(self) -> None:
        if self.space.interrupted:
            raise Interrupted

    def is_changed(self, node_id: str) -> Any:
        """IS_CHANGED: LoadImage's file hash (nodes.py LoadImage.IS_CHANGED); a node the
        mock is told to fail always runs again."""
        node = self.item.prompt[node_id]
        if self.flags.get(FLAG_FAIL_NODE) in (node_id, node["class_type"]):
            return random.random()
        return NODES[node["class_type"]].is_changed(self.root, node.get("inputs", {}))

    async def progress_state(self, node_id: str, state: str, value: float, maximum: float) -> None:
        """progress_state with every non-pending node, as WebUIProgressHandler sends it
        (comfy_execution/progress.py, v0.3.77); broadcast when the prompt has no client."""
        self.node_progress[node_id] = {
            "value": value,
            "max": maximum,
            "state": state,
            "node_id": node_id,
            "prompt_id": self.prompt_id,
            "display_node_id": node_id,
            "parent_node_id": None,
            "real_node_id": node_id,
        }
        await self.space.send_json(
            "progress_state",
            {
                "prompt_id": self.prompt_id,
                "nodes": {k: dict(v) for k, v in self.node_progress.items()},
            },
            self.client_id,
        )

    async def finish(self, node_id: str) -> None:
        """finish_progress: state finished, value = max."""
        maximum = self.node_progress.get(node_id, {}).get("max", 1)
        await self.progress_state(node_id, "finished", maximum, maximum)

    def record_ui(self, node_id: str, ui: dict[str, Any]) -> None:
        self.ui_outputs[node_id] = ui
        self.meta[node_id] = {
            "node_id": node_id,
            "display_node": node_id,
            "parent_node": None,
            "real_node_id": node_id,
        }

    async def execute(self) -> dict[str, Any]:
        """Run all nodes not served from the cache; return the history entry.

        As PromptExecutor.execute_async (execution.py, v0.3.77)."""
        space, pid = self.space, self.prompt_id
        space.interrupted = False
        space.client_id = self.client_id
        await self.add_message("execution_start", {"prompt_id": pid}, broadcast=False)
        prompt = self.item.prompt
        signatures = input_signatures(prompt, self.is_changed)
        space.cache = {k: v for k, v in space.cache.items() if k in signatures.values()}
        cached = [n for n in prompt if signatures[n] in space.cache]
        await self.add_message(
            "execution_cached", {"nodes": cached, "prompt_id": pid}, broadcast=False
        )
        for node_id in cached:
            self.values[node_id] = space.cache[signatures[node_id]].outputs
        for node_id in execution_order(prompt, self.item.outputs, cached):
            class_type = prompt[node_id]["class_type"]
            hit = space.cache.get(signatures[node_id])
            if hit is not None:
                # a node identical to one already run in this prompt: its outputs feed the
                # consumers as they would have (execution.py execute: cache_update, v0.3.77)
                self.values[node_id] = hit.outputs
                if self.client_id is not None:
                    await self.to_client(
                        "executed",
                        {
                            "node": node_id,
                            "display_node": node_id,
                            "output": hit.ui,
                            "prompt_id": pid,
                        },
                    )
                    if hit.ui is not None:
                        self.record_ui(node_id, hit.ui)
                await self.finish(node_id)
                continue
            try:
                self.check_interrupt()
                await self.progress_state(node_id, "running", 0.0, 1.0)
                space.last_node_id = node_id
                await self.to_client(
                    "executing", {"node": node_id, "display_node": node_id, "prompt_id": pid}
                )
                ui = await self.run_node(node_id, class_type, prompt[node_id].get("inputs", {}))
            except Interrupted:
                self.success = False
                await self.add_message(
                    "execution_interrupted",
                    {
                        "prompt_id": pid,
                        "node_id": node_id,
                        "node_type": class_type,
                        "executed": list(self.executed),
                    },
                    broadcast=True,
                )
                break
            except Exception as ex:
                self.success = False
                await self.add_message(
                    "execution_error",
                    self.error_details(node_id, class_type, ex),
                    broadcast=False,
                )
                break
            self.executed.append(node_id)
            space.cache[signatures[node_id]] = CacheEntry(self.values[node_id], ui or None)
            if ui:
                self.record_ui(node_id, ui)
                await self.to_client(
                    "executed",
                    {"node": node_id, "display_node": node_id, "output": ui, "prompt_id": pid},
                )
            await self.finish(node_id)
        else:
            await self.add_message("execution_success", {"prompt_id": pid}, broadcast=False)
        space.last_node_id = None
        return {
            "prompt": self.item.as_list(),
            "outputs": self.ui_outputs,
            "status": {
                "status_str": "success" if self.success else "error",
                "completed": self.success,
                "messages": self.messages,
            },
            "meta": self.meta,
        }

    def error_details(self, node_id: str, class_type: str, ex: Exception) -> dict[str, Any]:
        typ = type(ex)
        module = typ.__module__
        return {
            "prompt_id": self.prompt_id,
            "node_id": node_id,
            "node_type": class_type,
            "executed": list(self.executed),
            "exception_message": f"{ex}\n",
            "exception_type": typ.__qualname__
            if module == "builtins"
            else f"{module}.{typ.__qualname__}",
            "traceback": traceback.format_tb(ex.__traceback__),
            "current_inputs": self.current_inputs(node_id, class_type),
            "current_outputs": list(self.item.prompt),
        }

    def current_inputs(self, node_id: str, class_type: str) -> dict[str, list[Any]]:
        """execution.py get_input_data, formatted: the prompt's inputs in its order (links
        resolved, literals the node declares), then a v1 node's hidden PROMPT,
        EXTRA_PNGINFO and UNIQUE_ID."""
        spec = _nodes.object_info()[class_type]
        declared = {n for category in spec["input"].values() for n in category}
        out: dict[str, list[Any]] = {}
        for name, value in self.item.prompt[node_id].get("inputs", {}).items():
            if _is_link(value):
                produced = self.values.get(value[0])
                out[name] = [_format_value(produced[value[1]]) if produced else None]
            elif name in declared:
                out[name] = [_format_value(value)]
        if "api_node" not in spec:  # comfy_api v3 nodes take hidden inputs apart
            hidden = {
                "PROMPT": self.item.prompt,
                "EXTRA_PNGINFO": self.extra_pnginfo,
                "UNIQUE_ID": node_id,
            }
            for name, kind in spec["input"].get("hidden", {}).items():
                if kind in HIDDEN_VALUES:
                    out[name] = [_format_value(hidden[kind])]
        return out

    def resolve(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Literal inputs as given, linked ones from the producing node's outputs."""
        return {
            name: self.values[value[0]][value[1]] if _is_link(value) else value
            for name, value in inputs.items()
        }

    async def run_node(
        self, node_id: str, class_type: str, inputs: dict[str, Any]
    ) -> dict[str, Any] | None:
        fail = self.flags.get(FLAG_FAIL_NODE)
        if fail is not None and fail in (node_id, class_type):
            raise MockExecutionError(f"mock failure injected for node {node_id} ({class_type})")
        self.node_id = node_id
        outputs, ui = await NODES[class_type]().run(self, **self.resolve(inputs))
        self.values[node_id] = outputs
        return ui

    async def send_bytes(self, data: bytes) -> None:
        await self.space.send_bytes(data, self.client_id)

    async def broadcast_bytes(self, data: bytes) -> None:
        await self.space.send_bytes(data, None)

    async def sample_steps(self, steps: int, seed: int, width: int, height: int) -> None:
        """KSampler's steps: per step the progress hook with a JPEG preview (when previews
        are on), checking for an interrupt before and after each step's wait."""
        step_seconds = float(self.flags.get(FLAG_STEP_SECONDS, self.config.step_seconds))
        for step in range(1, steps + 1):
            self.check_interrupt()
            await asyncio.sleep(max(0.0, step_seconds))
            self.check_interrupt()
            preview = None
            if self.config.previews:
                img = _images.preview(seed, step, steps, width, height)
                preview = ("JPEG", await asyncio.to_thread(_images.sampler_preview, img))
            await self.progress(step, steps, preview)

    async def progress(
        self, value: int, total: int, preview: tuple[str, bytes] | None = None
    ) -> None:
        """The progress hook (main.py hijack_progress, v0.3.77): update_progress sends
        progress_state and, to a client that announced supports_preview_metadata, the
        preview as event 4 with the node's metadata (comfy_execution/progress.py
        WebUIProgressHandler); then `progress`, then, to any other client, the preview as
        event 1 (server.py send_image). All to the prompt's client, or to everyone
        without one."""
        node_id = self.node_id
        client = self.space.clients.get(self.client_id) if self.client_id is not None else None
        with_metadata = client is not None and (
            client.feature_flags.get("supports_preview_metadata") is True
        )
        await self.progress_state(node_id, "running", value, total)
        if preview is not None and with_metadata:
            metadata = {
                "node_id": node_id,
                "prompt_id": self.prompt_id,
                "display_node_id": node_id,
                "parent_node_id": None,
                "real_node_id": node_id,
            }
            image_type, data = preview
            await self.send_bytes(_images.preview_frame_with_metadata(data, metadata, image_type))
        progress = {"value": value, "max": total, "prompt_id": self.prompt_id, "node": node_id}
        await self.space.send_json("progress", progress, self.client_id)
        if preview is not None and not with_metadata:
            await self.send_bytes(_images.preview_frame_encoded(preview[1], preview[0]))


async def worker(space: Space, config: Config, flags_of: Any) -> None:
    """Execute the namespace's queue forever, one prompt at a time."""
    while True:
        item = space.pop()
        if item is None:
            space.wakeup.clear()
            await space.wakeup.wait()
            continue
        await space.queue_updated()
        run = Run(space, item, config, flags_of(space.name))
        try:
            entry = await run.execute()
        except Exception as ex:  # a mock bug must not kill the queue
            entry = {
                "prompt": item.as_list(),
                "outputs": run.ui_outputs,
                "status": {"status_str": "error", "completed": False, "messages": run.messages},
                "meta": run.meta,
                "mock_error": repr(ex),
            }
        if len(space.history) > MAXIMUM_HISTORY_SIZE:
            space.history.pop(next(iter(space.history)))
        space.history[item.prompt_id] = entry
        space.running = None
        await space.queue_updated()
        if run.client_id is not None:
            await space.send_json(
                "executing", {"node": None, "prompt_id": item.prompt_id}, run.client_id
            )
