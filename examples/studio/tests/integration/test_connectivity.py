"""Connectivity: every backend answers the studio through its proxy; one episode end to end;
ComfyUI, LiteLLM and Wan2GP serving at the same time."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import websocket
from harness import WorkerBackends

from studio._comfyui import build_graph
from studio._wan2gp import ClipRequest, generate_clip
from tests.integration.conftest import BACKENDS, Studio

pytestmark = pytest.mark.connectivity


@pytest.mark.smoke
def test_health_matrix_reaches_every_backend_through_its_proxy(studio: Studio) -> None:
    code, states = studio.health()
    assert code == 200, states
    assert set(states) == BACKENDS and set(states.values()) == {"ok"}, states


@pytest.mark.e2e
def test_episode_runs_end_to_end_across_all_backends(studio: Studio) -> None:
    project = studio.project()
    episode = studio.episode(project)["id"]
    events = studio.follow(episode)
    assert events[-1].event == "completed", [e.event for e in events][-5:]
    assert len({e.id for e in events}) == len(events)
    steps = [e.data["step"] for e in events if e.event == "step_completed"]
    assert steps == ["scripting", "casting", "rendering_keyframes", "rendering_clip", "publishing"]
    final = studio.get_episode(episode)
    assert final["number"] == 1 and final["script"]
    assert [c["name"] for c in final["cast"]] == ["Ada", "Bo"]
    assert all(k["bytes"] > 0 for k in final["keyframes"]) and final["clip"]["bytes"] > 0
    assert final["vod"]["state"] == "complete" and final["vod"]["url"].startswith("http")


def _comfyui_render(url: str, namespace: str, seed: int) -> int:
    """The official websocket example's flow (websocket-client): prompt, wait, history, view."""
    client_id = uuid.uuid4().hex
    headers = {"X-Harness-Namespace": namespace}
    ws = websocket.create_connection(
        f"ws{url[4:]}/ws?clientId={client_id}", header=headers, timeout=60
    )
    try:
        graph = build_graph("a storm over the hangar", seed, 3, 64, f"multi_{seed}")
        queued = httpx.post(
            f"{url}/prompt", json={"prompt": graph, "client_id": client_id}, headers=headers
        ).json()
        while True:
            frame = ws.recv()
            if isinstance(frame, str):
                message = json.loads(frame)
                data = message.get("data") or {}
                finished = message["type"] == "executing" and data.get("node") is None
                if finished and data.get("prompt_id") == queued["prompt_id"]:
                    break
    finally:
        ws.close()
    history = httpx.get(f"{url}/history/{queued['prompt_id']}", headers=headers).json()
    (image,) = [
        i for out in history[queued["prompt_id"]]["outputs"].values() for i in out["images"]
    ]
    png = httpx.get(f"{url}/view", params=image, headers=headers)
    assert png.content.startswith(b"\x89PNG")
    return len(png.content)


@pytest.mark.e2e
@pytest.mark.multibackend
def test_comfyui_litellm_and_wan2gp_serve_in_parallel(
    backends: WorkerBackends, openai_client: Any, harness_namespace: str, tmp_path: Path
) -> None:
    start = threading.Barrier(8)

    def together(work: Any, *args: Any) -> Any:
        start.wait(timeout=30)
        return work(*args)

    def chat(n: int) -> str:
        reply = openai_client.chat.completions.create(
            model="mock-gpt", messages=[{"role": "user", "content": f"line {n}"}]
        )
        return str(reply.choices[0].message.content)

    # the openai SDK builds its pydantic response models on first use, and pydantic's build is
    # not thread-safe (pydantic "BaseModel cannot be instantiated directly" in a racing thread):
    # one call first, as a client shared between threads needs anyway
    assert chat(-1)

    def clip(seed: int) -> int:
        request = ClipRequest("a storm", frames=9, steps=2, seed=seed, resolution="832x480")
        headers = {"X-Harness-Namespace": f"{harness_namespace}-clip{seed}"}
        path = generate_clip(backends.address("wan2gp").url, headers, request, 120, tmp_path)
        return path.stat().st_size

    comfyui = backends.address("comfyui").url
    with ThreadPoolExecutor(max_workers=8) as pool:
        images = [
            pool.submit(together, _comfyui_render, comfyui, harness_namespace, s) for s in (1, 2, 3)
        ]
        chats = [pool.submit(together, chat, n) for n in range(3)]
        clips = [pool.submit(together, clip, seed) for seed in (1, 2)]
        assert all(f.result(timeout=180) > 0 for f in images)
        assert all(f.result(timeout=180) for f in chats)
        assert all(f.result(timeout=180) > 1000 for f in clips)
