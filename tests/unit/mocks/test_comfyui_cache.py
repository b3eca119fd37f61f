"""The ComfyUI mock's output cache (comfy_execution/caching.py CacheKeySetInputSignature and
execution.py execute, Comfy-Org/ComfyUI v0.3.77) on graphs found by harness.data's generator:
two identical nodes in one prompt, and deep chains."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import websocket

from harness.mocks.comfyui._executor import input_signatures


def chain(depth: int, width: int = 8) -> dict[str, Any]:
    prompt: dict[str, Any] = {
        "0": {
            "class_type": "EmptyImage",
            "inputs": {"width": width, "height": 8, "batch_size": 1, "color": 0},
        }
    }
    for i in range(1, depth + 1):
        prompt[str(i)] = {"class_type": "ImageInvert", "inputs": {"image": [str(i - 1), 0]}}
    prompt["out"] = {"class_type": "PreviewImage", "inputs": {"images": [str(depth), 0]}}
    return prompt


def test_signatures_stay_digests_on_deep_chains() -> None:
    # keys nesting their ancestors' JSON text grew 2x per level (escapes); a digest does not
    signatures = input_signatures(chain(20), lambda node_id: None)
    assert {len(s) for s in signatures.values()} == {64}
    assert input_signatures(chain(20), lambda n: None) == signatures
    assert input_signatures(chain(20, width=16), lambda n: None)["out"] != signatures["out"]


def run(base: str, prompt: dict[str, Any]) -> list[dict[str, Any]]:
    namespace = {"X-Harness-Namespace": f"t-{uuid.uuid4().hex[:12]}"}
    client_id = uuid.uuid4().hex
    ws = websocket.WebSocket()
    ws.connect(
        f"ws://{base.removeprefix('http://')}/ws?clientId={client_id}",
        header=[f"{k}: {v}" for k, v in namespace.items()],
        timeout=30,
    )
    try:
        answer = httpx.post(
            f"{base}/prompt", json={"prompt": prompt, "client_id": client_id}, headers=namespace
        )
        assert answer.status_code == 200, answer.text
        messages = []
        while True:
            frame = ws.recv()
            if isinstance(frame, bytes):
                continue
            message = json.loads(frame)
            messages.append(message)
            if message["type"] == "executing" and message["data"]["node"] is None:
                return messages
    finally:
        ws.close()


def test_identical_nodes_in_one_prompt_feed_their_consumers(
    mock_server_module: Callable[..., str],
) -> None:
    base = mock_server_module("comfyui", "--step-seconds", "0", "--no-previews")
    loader = {
        "class_type": "CheckpointLoaderSimple",
        "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"},
    }
    prompt = {
        "a": loader,
        "b": dict(loader),  # same signature: served from the cache entry "a" just made
        "text": {"class_type": "CLIPTextEncode", "inputs": {"text": "a harbor", "clip": ["b", 1]}},
        "latent": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1},
        },
        "sample": {
            "class_type": "KSampler",
            "inputs": {
                "seed": 1,
                "steps": 2,
                "cfg": 7.0,
                "sampler_name": "euler",
                "scheduler": "normal",
                "denoise": 1.0,
                "model": ["a", 0],
                "positive": ["text", 0],
                "negative": ["text", 0],
                "latent_image": ["latent", 0],
            },
        },
        "decode": {
            "class_type": "VAEDecode",
            "inputs": {"samples": ["sample", 0], "vae": ["b", 2]},
        },
        "save": {"class_type": "PreviewImage", "inputs": {"images": ["decode", 0]}},
    }
    types = [m["type"] for m in run(base, prompt)]
    assert "execution_success" in types and "execution_error" not in types
    deep = [m["type"] for m in run(base, chain(60))]
    assert "execution_success" in deep
