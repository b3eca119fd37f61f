"""ComfyUI mock conformance: the official example clients' flows plus error paths."""

from __future__ import annotations

import copy
import io
import json
import struct
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import websocket
from PIL import Image

from harness._waiting import wait_for
from harness.mocks import NAMESPACE_HEADER as H

MAGIC = "__MOCK_EXECUTION_ERROR__"

# The graph of ComfyUI's script_examples/websockets_api_example.py
EXAMPLE_PROMPT: dict[str, Any] = {
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "cfg": 8,
            "denoise": 1,
            "latent_image": ["5", 0],
            "model": ["4", 0],
            "negative": ["7", 0],
            "positive": ["6", 0],
            "sampler_name": "euler",
            "scheduler": "normal",
            "seed": 8566257,
            "steps": 20,
        },
    },
    "4": {
        "class_type": "CheckpointLoaderSimple",
        "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"},
    },
    "5": {
        "class_type": "EmptyLatentImage",
        "inputs": {"batch_size": 1, "height": 512, "width": 512},
    },
    "6": {
        "class_type": "CLIPTextEncode",
        "inputs": {"clip": ["4", 1], "text": "masterpiece best quality girl"},
    },
    "7": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["4", 1], "text": "bad hands"}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
}


def example_prompt(seed: int = 5, text: str = "masterpiece best quality man") -> dict[str, Any]:
    prompt = copy.deepcopy(EXAMPLE_PROMPT)
    prompt["6"]["inputs"]["text"] = text
    prompt["3"]["inputs"]["seed"] = seed
    return prompt


def ws_images_prompt(seed: int = 5) -> dict[str, Any]:
    prompt = example_prompt(seed)
    del prompt["9"]
    prompt["save_image_websocket_node"] = {
        "class_type": "SaveImageWebsocket",
        "inputs": {"images": ["8", 0]},
    }
    return prompt


@pytest.fixture(scope="module")
def base(mock_server_module: Callable[..., str]) -> str:
    return mock_server_module("comfyui", "--step-seconds", "0")


@pytest.fixture
def addr(base: str) -> str:
    return base.removeprefix("http://")


@pytest.fixture
def api(base: str, namespace: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, headers={H: namespace}, timeout=30) as c:
        yield c


def connect(addr: str, client_id: str, namespace: str | None = None) -> websocket.WebSocket:
    ws = websocket.WebSocket()
    header = [f"{H}: {namespace}"] if namespace else None
    ws.connect(f"ws://{addr}/ws?clientId={client_id}", header=header, timeout=30)
    return ws


def read_until_done(ws: websocket.WebSocket, prompt_id: str) -> list[Any]:
    """Read frames (text decoded to dicts, binary kept) until `executing` node None."""
    frames: list[Any] = []
    while True:
        out = ws.recv()
        if isinstance(out, str):
            msg = json.loads(out)
            frames.append(msg)
            data = msg["data"]
            if (
                msg["type"] == "executing"
                and data["node"] is None
                and data["prompt_id"] == prompt_id
            ):
                return frames
        else:
            frames.append(out)


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG"
        return img.size


def jpeg_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG"
        return img.size


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        return img.convert("RGB").tobytes()


# -- the official example clients, written the way the examples are --------------------------


def run_websockets_api_example(addr: str, prompt: dict[str, Any]) -> dict[str, list[bytes]]:
    server_address = addr
    client_id = str(uuid.uuid4())

    def queue_prompt(prompt: dict[str, Any]) -> Any:
        p = {"prompt": prompt, "client_id": client_id}
        data = json.dumps(p).encode("utf-8")
        req = urllib.request.Request(f"http://{server_address}/prompt", data=data)
        return json.loads(urllib.request.urlopen(req).read())

    def get_image(filename: str, subfolder: str, folder_type: str) -> bytes:
        data = {"filename": filename, "subfolder": subfolder, "type": folder_type}
        url_values = urllib.parse.urlencode(data)
        with urllib.request.urlopen(f"http://{server_address}/view?{url_values}") as response:
            return bytes(response.read())

    def get_history(prompt_id: str) -> Any:
        with urllib.request.urlopen(f"http://{server_address}/history/{prompt_id}") as response:
            return json.loads(response.read())

    def get_images(ws: websocket.WebSocket, prompt: dict[str, Any]) -> dict[str, list[bytes]]:
        prompt_id = queue_prompt(prompt)["prompt_id"]
        output_images: dict[str, list[bytes]] = {}
        while True:
            out = ws.recv()
            if isinstance(out, str):
                message = json.loads(out)
                if message["type"] == "executing":
                    data = message["data"]
                    if data["node"] is None and data["prompt_id"] == prompt_id:
                        break  # Execution is done
            else:
                continue  # previews are binary data
        history = get_history(prompt_id)[prompt_id]
        for node_id in history["outputs"]:
            node_output = history["outputs"][node_id]
            images_output = []
            if "images" in node_output:
                for image in node_output["images"]:
                    image_data = get_image(image["filename"], image["subfolder"], image["type"])
                    images_output.append(image_data)
            output_images[node_id] = images_output
        return output_images

    ws = websocket.WebSocket()
    ws.connect(f"ws://{server_address}/ws?clientId={client_id}")
    images = get_images(ws, prompt)
    ws.close()
    return images


def run_ws_images_example(addr: str, prompt: dict[str, Any]) -> dict[str, list[bytes]]:
    server_address = addr
    client_id = str(uuid.uuid4())

    def queue_prompt(prompt: dict[str, Any]) -> Any:
        p = {"prompt": prompt, "client_id": client_id}
        data = json.dumps(p).encode("utf-8")
        req = urllib.request.Request(f"http://{server_address}/api/prompt", data=data)
        return json.loads(urllib.request.urlopen(req).read())

    def get_images(ws: websocket.WebSocket, prompt: dict[str, Any]) -> dict[str, list[bytes]]:
        prompt_id = queue_prompt(prompt)["prompt_id"]
        output_images: dict[str, list[bytes]] = {}
        current_node = ""
        while True:
            out = ws.recv()
            if isinstance(out, str):
                message = json.loads(out)
                if message["type"] == "executing":
                    data = message["data"]
                    if data["prompt_id"] == prompt_id:
                        if data["node"] is None:
                            break  # Execution is done
                        current_node = data["node"]
            elif current_node == "save_image_websocket_node":
                images_output = output_images.get(current_node, [])
                images_output.append(out[8:])
                output_images[current_node] = images_output
        return output_images

    ws = websocket.WebSocket()
    ws.connect(f"ws://{server_address}/ws?clientId={client_id}")
    images = get_images(ws, prompt)
    ws.close()
    return images


def test_websockets_api_example_flow(addr: str) -> None:
    images = run_websockets_api_example(addr, example_prompt(seed=5))
    assert list(images) == ["9"]
    assert len(images["9"]) == 1
    assert png_size(images["9"][0]) == (512, 512)
    again = run_websockets_api_example(addr, example_prompt(seed=5))
    other = run_websockets_api_example(addr, example_prompt(seed=6))
    assert pixels(again["9"][0]) == pixels(images["9"][0])
    assert pixels(other["9"][0]) != pixels(images["9"][0])


def test_ws_images_example_flow(addr: str) -> None:
    images = run_ws_images_example(addr, ws_images_prompt(seed=5))
    assert list(images) == ["save_image_websocket_node"]
    (image,) = images["save_image_websocket_node"]
    assert png_size(image) == (512, 512)
    saved = run_websockets_api_example(addr, example_prompt(seed=5))["9"][0]
    assert pixels(image) == pixels(saved)


def test_old_example_checkpoint_name_is_accepted(addr: str) -> None:
    prompt = example_prompt()
    prompt["4"]["inputs"]["ckpt_name"] = "v1-5-pruned-emaonly.ckpt"
    assert png_size(run_websockets_api_example(addr, prompt)["9"][0]) == (512, 512)


def test_image_size_follows_empty_latent(addr: str) -> None:
    prompt = example_prompt()
    prompt["5"]["inputs"].update(width=203, height=136, batch_size=2)
    images = run_websockets_api_example(addr, prompt)["9"]
    assert [png_size(i) for i in images] == [(200, 136), (200, 136)]
    assert pixels(images[0]) != pixels(images[1])


# -- WebSocket message protocol -------------------------------------------------------------


def test_message_order_previews_and_history_shape(
    addr: str, api: httpx.Client, namespace: str
) -> None:
    cid = uuid.uuid4().hex
    ws = connect(addr, cid, namespace)
    hello = json.loads(ws.recv())
    assert hello == {
        "type": "status",
        "data": {"status": {"exec_info": {"queue_remaining": 0}}, "sid": cid},
    }
    prompt = example_prompt()
    prompt["3"]["inputs"]["steps"] = 4
    r = api.post("/prompt", json={"prompt": prompt, "client_id": cid})
    assert r.status_code == 200
    body = r.json()
    pid = body["prompt_id"]
    assert body == {"prompt_id": pid, "number": 0, "node_errors": {}}
    assert str(uuid.UUID(pid)) == pid
    frames = read_until_done(ws, pid)
    ws.close()
    texts = [(f["type"], f["data"].get("node")) for f in frames if isinstance(f, dict)]
    main = [t for t in texts if t[0] not in ("progress", "progress_state")]
    assert main == [
        ("status", None),
        ("status", None),
        ("execution_start", None),
        ("execution_cached", None),
        ("executing", "5"),
        ("executing", "4"),
        ("executing", "7"),
        ("executing", "6"),
        ("executing", "3"),
        ("executing", "8"),
        ("executing", "9"),
        ("executed", "9"),
        ("execution_success", None),
        ("status", None),
        ("executing", None),
    ]
    progress = [f["data"] for f in frames if isinstance(f, dict) and f["type"] == "progress"]
    assert progress == [{"value": v, "max": 4, "prompt_id": pid, "node": "3"} for v in range(1, 5)]
    ks = texts.index(("executing", "3"))
    vae = texts.index(("executing", "8"))
    text_positions = [i for i, f in enumerate(frames) if isinstance(f, dict)]
    binary = [i for i, f in enumerate(frames) if isinstance(f, bytes)]
    assert len(binary) == 4
    assert all(text_positions[ks] < i < text_positions[vae] for i in binary)
    for i in binary:
        # main.py hijack_progress (v0.3.77): a client without supports_preview_metadata gets
        # PREVIEW_IMAGE (1), format 1: latent_preview's JPEG, fitted to 512 by send_image
        event, fmt = struct.unpack(">II", frames[i][:8])
        assert (event, fmt) == (1, 1)
        assert jpeg_size(frames[i][8:]) == (512, 512)
    statuses = [f["data"] for f in frames if isinstance(f, dict) and f["type"] == "status"]
    assert [s["status"]["exec_info"]["queue_remaining"] for s in statuses] == [1, 1, 0]
    executed = next(f["data"] for f in frames if isinstance(f, dict) and f["type"] == "executed")
    image = executed["output"]["images"][0]
    assert image["filename"].startswith("ComfyUI_") and image["type"] == "output"

    entry = api.get(f"/history/{pid}").json()[pid]
    assert entry["prompt"][:2] == [0, pid]
    assert entry["prompt"][3]["client_id"] == cid
    assert isinstance(entry["prompt"][3]["create_time"], int)
    assert entry["prompt"][4] == ["9"]
    assert entry["outputs"] == {"9": {"images": [image]}}
    assert entry["status"]["status_str"] == "success" and entry["status"]["completed"] is True
    assert [m[0] for m in entry["status"]["messages"]] == [
        "execution_start",
        "execution_cached",
        "execution_success",
    ]
    assert entry["meta"]["9"] == {
        "node_id": "9",
        "display_node": "9",
        "parent_node": None,
        "real_node_id": "9",
    }


def run_traced(
    addr: str, api: httpx.Client, namespace: str, prompt: dict[str, Any]
) -> tuple[str, list[dict[str, Any]]]:
    """Post `prompt` with a fresh client id; its text frames up to `executing` None."""
    cid = uuid.uuid4().hex
    ws = connect(addr, cid, namespace)
    pid = api.post("/prompt", json={"prompt": prompt, "client_id": cid}).json()["prompt_id"]
    frames = [f for f in read_until_done(ws, pid) if isinstance(f, dict)]
    ws.close()
    return pid, frames


def of_type(frames: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [f["data"] for f in frames if f["type"] == kind]


def test_rerun_is_served_from_the_execution_cache(
    addr: str, api: httpx.Client, namespace: str
) -> None:
    """Comfy-Org/ComfyUI v0.3.77, execution.py PromptExecutor.execute_async and execute():
    cached nodes are listed in execution_cached, get no `executing`, and a cached output
    node re-sends `executed` from its cached UI, which also lands in the history."""
    prompt = example_prompt(seed=11)
    _, first = run_traced(addr, api, namespace, prompt)
    assert of_type(first, "execution_cached")[0]["nodes"] == []
    ui = of_type(first, "executed")[0]["output"]
    pid, again = run_traced(addr, api, namespace, prompt)
    assert sorted(of_type(again, "execution_cached")[0]["nodes"]) == sorted(prompt)
    assert [d["node"] for d in of_type(again, "executing")] == [None]
    assert of_type(again, "executed") == [
        {"node": "9", "display_node": "9", "output": ui, "prompt_id": pid}
    ]
    assert of_type(again, "progress") == []
    assert api.get(f"/history/{pid}").json()[pid]["outputs"] == {"9": ui}


def test_only_changed_nodes_and_dependents_run_again(
    addr: str, api: httpx.Client, namespace: str
) -> None:
    """Cache keys are input signatures (comfy_execution/caching.py
    CacheKeySetInputSignature, v0.3.77): a new negative text re-runs node 7, the sampler
    and what follows; the loader, the other text and the latent come from the cache."""
    prompt = example_prompt(seed=12)
    run_traced(addr, api, namespace, prompt)
    prompt["7"]["inputs"]["text"] = "blurry"
    _, frames = run_traced(addr, api, namespace, prompt)
    assert sorted(of_type(frames, "execution_cached")[0]["nodes"]) == ["4", "5", "6"]
    assert [d["node"] for d in of_type(frames, "executing")] == ["7", "3", "8", "9", None]


def test_progress_state_at_each_node_start_and_finish(
    addr: str, api: httpx.Client, namespace: str
) -> None:
    """WebUIProgressHandler (comfy_execution/progress.py, v0.3.77) sends every non-pending
    node on start_progress (running, 0 of 1), update_progress and finish_progress
    (finished, value = max)."""
    prompt = example_prompt(seed=13)
    prompt["3"]["inputs"]["steps"] = 2
    pid, frames = run_traced(addr, api, namespace, prompt)
    states = of_type(frames, "progress_state")
    assert all(s["prompt_id"] == pid for s in states)
    first = states[0]["nodes"]
    assert list(first) == ["5"]
    assert first["5"] == {
        "value": 0.0,
        "max": 1.0,
        "state": "running",
        "node_id": "5",
        "prompt_id": pid,
        "display_node_id": "5",
        "parent_node_id": None,
        "real_node_id": "5",
    }
    assert states[1]["nodes"]["5"]["state"] == "finished"
    last = states[-1]["nodes"]
    assert set(last) == set(prompt)
    assert all(n["state"] == "finished" for n in last.values())
    assert last["3"]["value"] == last["3"]["max"] == 2
    # start, 2 steps, finish for the sampler; start and finish for the 6 others
    assert len(states) == 4 + 2 * 6


def test_execution_events_only_reach_the_submitting_client(
    addr: str, api: httpx.Client, namespace: str
) -> None:
    mine, other = uuid.uuid4().hex, uuid.uuid4().hex
    ws_mine, ws_other = connect(addr, mine, namespace), connect(addr, other, namespace)
    pid = api.post("/prompt", json={"prompt": example_prompt(), "client_id": mine}).json()[
        "prompt_id"
    ]
    read_until_done(ws_mine, pid)
    ws_mine.close()
    ws_other.settimeout(0.5)
    seen = []
    try:
        while True:
            out = ws_other.recv()
            seen.append(json.loads(out)["type"] if isinstance(out, str) else "binary")
    except websocket.WebSocketTimeoutException:
        pass
    ws_other.close()
    assert seen and set(seen) == {"status"}


def test_prompt_without_client_id_gets_only_broadcast_progress(
    addr: str, api: httpx.Client, namespace: str
) -> None:
    cid = uuid.uuid4().hex
    ws = connect(addr, cid, namespace)
    pid = api.post("/prompt", json={"prompt": example_prompt()}).json()["prompt_id"]
    entry = wait_for(
        lambda: api.get(f"/history/{pid}").json().get(pid),
        20,
        "the prompt's history",
        interval=0.02,
    )
    assert entry["status"]["status_str"] == "success"
    assert "client_id" not in entry["prompt"][3]
    ws.settimeout(0.5)
    seen = []
    try:
        while True:
            out = ws.recv()
            seen.append(json.loads(out)["type"] if isinstance(out, str) else "binary")
    except websocket.WebSocketTimeoutException:
        pass
    ws.close()
    # No executing/executed (execution.py sends them only to a client id). What goes to
    # server.client_id, None here, is broadcast by send_sync(sid=None): progress_state
    # (comfy_execution/progress.py), and the progress hook's `progress` and event-1 previews
    # (main.py hijack_progress), Comfy-Org/ComfyUI v0.3.77.
    assert set(seen) == {"status", "progress_state", "progress", "binary"}


def test_previews_carry_metadata_for_a_client_that_supports_it(
    addr: str, api: httpx.Client, namespace: str
) -> None:
    """comfy_execution/progress.py WebUIProgressHandler.update_handler and server.py
    send_image_with_metadata (v0.3.77): after announcing supports_preview_metadata the
    client gets PREVIEW_IMAGE_WITH_METADATA (4): a 4-byte JSON length, the node's metadata
    plus image_type, the JPEG; per step progress_state, preview, then progress."""
    cid = uuid.uuid4().hex
    ws = connect(addr, cid, namespace)
    ws.recv()
    ws.send(json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": True}}))
    assert json.loads(ws.recv())["type"] == "feature_flags"
    prompt = example_prompt(seed=77)
    prompt["3"]["inputs"]["steps"] = 2
    prompt["5"]["inputs"].update(width=512, height=384)
    pid = api.post("/prompt", json={"prompt": prompt, "client_id": cid}).json()["prompt_id"]
    frames = read_until_done(ws, pid)
    ws.close()
    binary = [f for f in frames if isinstance(f, bytes)]
    assert len(binary) == 2
    for frame in binary:
        event, length = struct.unpack(">II", frame[:8])
        assert event == 4
        assert json.loads(frame[8 : 8 + length]) == {
            "node_id": "3",
            "prompt_id": pid,
            "display_node_id": "3",
            "parent_node_id": None,
            "real_node_id": "3",
            "image_type": "image/jpeg",
        }
        assert jpeg_size(frame[8 + length :]) == (512, 384)
    step = [
        f["type"] if isinstance(f, dict) else "binary"
        for f in frames
        if isinstance(f, bytes) or f["type"] in ("progress", "progress_state")
    ]
    sampler = step[step.index("binary") - 1 :][:6]
    assert sampler == ["progress_state", "binary", "progress"] * 2


def test_feature_flags_handshake(addr: str, namespace: str) -> None:
    ws = connect(addr, "ff", namespace)
    json.loads(ws.recv())
    ws.send(json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": False}}))
    reply = json.loads(ws.recv())
    ws.close()
    assert reply["type"] == "feature_flags"
    assert "supports_preview_metadata" in reply["data"]


def test_execution_error_from_magic_token(addr: str, api: httpx.Client, namespace: str) -> None:
    cid = uuid.uuid4().hex
    ws = connect(addr, cid, namespace)
    prompt = example_prompt(text=f"a cat {MAGIC}")
    pid = api.post("/prompt", json={"prompt": prompt, "client_id": cid}).json()["prompt_id"]
    frames = read_until_done(ws, pid)
    ws.close()
    types = [f["type"] for f in frames if isinstance(f, dict)]
    assert "execution_success" not in types and "executed" not in types
    err = next(f["data"] for f in frames if isinstance(f, dict) and f["type"] == "execution_error")
    assert (
        err["prompt_id"] == pid and err["node_id"] == "6" and err["node_type"] == "CLIPTextEncode"
    )
    assert err["executed"] == ["5", "4", "7"]
    assert MAGIC in err["exception_message"] and err["exception_type"]
    assert isinstance(err["traceback"], list) and isinstance(err["timestamp"], int)
    assert err["current_inputs"]["text"] == [f"a cat {MAGIC}"]
    status = api.get(f"/history/{pid}").json()[pid]["status"]
    assert status["status_str"] == "error" and status["completed"] is False
    assert status["messages"][-1][0] == "execution_error"


def test_execution_error_from_control_flag(addr: str, api: httpx.Client, namespace: str) -> None:
    api.post("/__harness/flags", json={"comfyui.fail_node": "VAEDecode"})
    cid = uuid.uuid4().hex
    ws = connect(addr, cid, namespace)
    pid = api.post("/prompt", json={"prompt": example_prompt(), "client_id": cid}).json()[
        "prompt_id"
    ]
    frames = read_until_done(ws, pid)
    ws.close()
    err = next(f["data"] for f in frames if isinstance(f, dict) and f["type"] == "execution_error")
    assert (err["node_id"], err["node_type"]) == ("8", "VAEDecode")
    assert api.get(f"/history/{pid}").json()[pid]["outputs"] == {}


def test_interrupt_running_prompt(addr: str, api: httpx.Client, namespace: str) -> None:
    api.post("/__harness/flags", json={"comfyui.step_seconds": 0.05})
    cid = uuid.uuid4().hex
    ws = connect(addr, cid, namespace)
    prompt = example_prompt()
    prompt["3"]["inputs"]["steps"] = 2000
    pid = api.post("/prompt", json={"prompt": prompt, "client_id": cid}).json()["prompt_id"]
    while True:  # wait for the sampler to be running
        out = ws.recv()
        if isinstance(out, str) and json.loads(out)["type"] == "progress":
            break
    other = api.post("/interrupt", json={"prompt_id": str(uuid.uuid4())})
    assert other.status_code == 200 and other.content == b""
    assert api.post("/interrupt").status_code == 200
    frames = read_until_done(ws, pid)
    ws.close()
    intr = next(
        f["data"] for f in frames if isinstance(f, dict) and f["type"] == "execution_interrupted"
    )
    assert intr["prompt_id"] == pid and intr["node_id"] == "3" and intr["node_type"] == "KSampler"
    assert set(intr["executed"]) == {"4", "5", "6", "7"}
    assert api.get(f"/history/{pid}").json()[pid]["status"]["status_str"] == "error"


def test_queue_listing_delete_and_clear(api: httpx.Client) -> None:
    api.post("/__harness/flags", json={"comfyui.step_seconds": 0.05})
    slow = example_prompt()
    slow["3"]["inputs"]["steps"] = 2000
    ids = [api.post("/prompt", json={"prompt": slow}).json()["prompt_id"] for _ in range(4)]
    queue = wait_for(
        lambda: (q := api.get("/queue").json())["queue_running"] and q,
        20,
        "a running queue",
        interval=0.02,
    )
    assert [i[1] for i in queue["queue_running"]] == ids[:1]
    assert [i[1] for i in queue["queue_pending"]] == ids[1:]
    assert queue["queue_pending"][0][0] == 1 and queue["queue_pending"][0][4] == ["9"]
    assert api.get("/prompt").json() == {"exec_info": {"queue_remaining": 4}}
    r = api.post("/queue", json={"delete": [ids[2]]})
    assert r.status_code == 200 and r.content == b""
    assert [i[1] for i in api.get("/queue").json()["queue_pending"]] == [ids[1], ids[3]]
    api.post("/queue", json={"clear": True})
    assert api.get("/queue").json()["queue_pending"] == []
    api.post("/interrupt")
    wait_for(
        lambda: api.get("/prompt").json()["exec_info"]["queue_remaining"] == 0,
        20,
        "an empty queue",
        interval=0.02,
    )
    assert list(api.get("/history").json()) == ids[:1]


def test_front_and_number_ordering(api: httpx.Client) -> None:
    api.post("/__harness/flags", json={"comfyui.step_seconds": 0.05})
    slow = example_prompt()
    slow["3"]["inputs"]["steps"] = 2000
    first = api.post("/prompt", json={"prompt": slow}).json()
    wait_for(
        lambda: api.get("/queue").json()["queue_running"], 20, "a running queue", interval=0.02
    )
    back = api.post("/prompt", json={"prompt": slow}).json()
    front = api.post("/prompt", json={"prompt": slow, "front": True}).json()
    explicit = api.post("/prompt", json={"prompt": slow, "number": -10}).json()
    assert (first["number"], back["number"], front["number"], explicit["number"]) == (
        0,
        1,
        -2,
        -10.0,
    )
    pending = api.get("/queue").json()["queue_pending"]  # heap order, as in ComfyUI
    by_number = [i[1] for i in sorted(pending, key=lambda i: i[0])]
    assert by_number == [explicit["prompt_id"], front["prompt_id"], back["prompt_id"]]
    assert pending[0][1] == explicit["prompt_id"]  # the heap's head runs next
    api.post("/queue", json={"clear": True})
    api.post("/interrupt")


def test_history_listing_and_deletion(api: httpx.Client) -> None:
    ids = [
        api.post("/prompt", json={"prompt": example_prompt(seed=i)}).json()["prompt_id"]
        for i in range(3)
    ]
    wait_for(
        lambda: len(api.get("/history").json()) == 3, 20, "three history entries", interval=0.02
    )
    assert list(api.get("/history").json()) == ids
    assert list(api.get("/history", params={"max_items": 2}).json()) == ids[1:]
    assert list(api.get("/api/history", params={"max_items": 1, "offset": 0}).json()) == ids[:1]
    assert api.get(f"/history/{uuid.uuid4()}").json() == {}
    r = api.post("/history", json={"delete": [ids[0]]})
    assert r.status_code == 200 and r.content == b""
    assert list(api.get("/history").json()) == ids[1:]
    api.post("/history", json={"clear": True})
    assert api.get("/history").json() == {}


# -- POST /prompt validation errors ------------------------------------------------------------


def post_error(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    r = api.post("/prompt", json=body)
    assert r.status_code == 400, r.text
    data: dict[str, Any] = r.json()
    assert set(data) == {"error", "node_errors"}
    assert set(data["error"]) == {"type", "message", "details", "extra_info"}
    return data


def test_no_prompt(api: httpx.Client) -> None:
    data = post_error(api, {"client_id": "x"})
    assert data["error"]["type"] == "no_prompt"
    assert data["error"]["message"] == "No prompt provided"
    assert data["node_errors"] == {}


@pytest.mark.parametrize(
    "given",
    ["not-a-uuid", "6F9619FF-8B86-D011-B42D-00C04FC964FF", 7],
)
def test_any_prompt_id_is_accepted(api: httpx.Client, given: Any) -> None:
    """v0.3.77 takes str(json_data.get("prompt_id", uuid4())) unvalidated
    (Comfy-Org/ComfyUI v0.3.77, server.py post_prompt)."""
    r = api.post("/prompt", json={"prompt": example_prompt(), "prompt_id": given})
    assert r.status_code == 200
    pid = r.json()["prompt_id"]
    assert pid == str(given)
    assert wait_for(
        lambda: api.get(f"/history/{pid}").json(), 20, "the prompt's history", interval=0.02
    )[pid]["status"]["completed"]


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [([], 400, "no_prompt"), ({"prompt": []}, 400, "prompt_no_outputs")],
)
def test_odd_bodies(api: httpx.Client, body: Any, status: int, kind: str) -> None:
    """`"prompt" in []` is False, and an empty list has no output node
    (Comfy-Org/ComfyUI v0.3.77, server.py post_prompt, execution.py validate_prompt)."""
    r = api.post("/prompt", json=body)
    assert r.status_code == status
    assert r.json()["error"]["type"] == kind
    assert r.json()["node_errors"] == {}


def test_client_prompt_id_is_used(api: httpx.Client) -> None:
    pid = str(uuid.uuid4())
    assert (
        api.post("/prompt", json={"prompt": example_prompt(), "prompt_id": pid}).json()["prompt_id"]
        == pid
    )
    wait_for(lambda: api.get(f"/history/{pid}").json(), 20, "the prompt's history", interval=0.02)


def test_unknown_or_missing_class_type_is_invalid_prompt(api: httpx.Client) -> None:
    """Comfy-Org/ComfyUI v0.3.77, execution.py validate_prompt: invalid_prompt, empty
    extra_info, no node_errors."""
    prompt = example_prompt()
    prompt["10"] = {"class_type": "NoSuchNode", "inputs": {}, "_meta": {"title": "Fancy"}}
    data = post_error(api, {"prompt": prompt})
    assert data == {
        "error": {
            "type": "invalid_prompt",
            "message": "Cannot execute because node NoSuchNode does not exist.",
            "details": "Node ID '#10'",
            "extra_info": {},
        },
        "node_errors": {},
    }
    prompt["10"] = {"inputs": {}}
    data = post_error(api, {"prompt": prompt})
    assert data["error"] == {
        "type": "invalid_prompt",
        "message": "Cannot execute because a node is missing the class_type property.",
        "details": "Node ID '#10'",
        "extra_info": {},
    }


def test_prompt_no_outputs(api: httpx.Client) -> None:
    prompt = example_prompt()
    del prompt["9"]
    data = post_error(api, {"prompt": prompt})
    assert data["error"] == {
        "type": "prompt_no_outputs",
        "message": "Prompt has no outputs",
        "details": "",
        "extra_info": {},
    }


def _failed(api: httpx.Client, prompt: dict[str, Any], node: str) -> list[dict[str, Any]]:
    data = post_error(api, {"prompt": prompt})
    assert data["error"]["type"] == "prompt_outputs_failed_validation"
    assert data["error"]["message"] == "Prompt outputs failed validation"
    entry = data["node_errors"][node]
    assert entry["dependent_outputs"] == ["9"]
    assert entry["class_type"] == prompt[node]["class_type"]
    errors: list[dict[str, Any]] = entry["errors"]
    return errors


def test_value_not_in_list(api: httpx.Client) -> None:
    prompt = example_prompt()
    prompt["4"]["inputs"]["ckpt_name"] = "missing.safetensors"
    (err,) = _failed(api, prompt, "4")
    assert err["type"] == "value_not_in_list" and err["message"] == "Value not in list"
    assert err["details"].startswith("ckpt_name: 'missing.safetensors' not in [")
    assert "'v1-5-pruned-emaonly.safetensors'" in err["details"]
    assert err["extra_info"]["input_name"] == "ckpt_name"
    assert err["extra_info"]["received_value"] == "missing.safetensors"
    prompt = example_prompt()
    prompt["3"]["inputs"]["sampler_name"] = "nope"
    (err,) = _failed(api, prompt, "3")
    # v0.3.77 comfy/samplers.py KSampler.SAMPLERS: 42 names
    assert err["details"] == "sampler_name: 'nope' not in (list of length 42)"
    assert err["extra_info"]["input_config"] is None


def test_required_input_missing(api: httpx.Client) -> None:
    prompt = example_prompt()
    del prompt["3"]["inputs"]["steps"]
    (err,) = _failed(api, prompt, "3")
    assert err == {
        "type": "required_input_missing",
        "message": "Required input is missing",
        "details": "steps",
        "extra_info": {"input_name": "steps"},
    }


def test_bad_links(api: httpx.Client) -> None:
    prompt = example_prompt()
    prompt["8"]["inputs"]["vae"] = ["4", 1]
    (err,) = _failed(api, prompt, "8")
    assert err["type"] == "return_type_mismatch"
    assert err["details"] == "vae, received_type(CLIP) mismatch input_type(VAE)"
    prompt = example_prompt()
    prompt["8"]["inputs"]["vae"] = ["4"]
    (err,) = _failed(api, prompt, "8")
    assert err["type"] == "bad_linked_input"
    prompt = example_prompt()
    prompt["8"]["inputs"]["vae"] = ["99", 0]
    (err,) = _failed(api, prompt, "8")
    assert err["type"] == "exception_during_inner_validation"
    assert err["details"] == "'99'"


def test_range_and_type_errors(api: httpx.Client) -> None:
    prompt = example_prompt()
    prompt["3"]["inputs"]["steps"] = 0
    (err,) = _failed(api, prompt, "3")
    assert (err["type"], err["message"], err["details"]) == (
        "value_smaller_than_min",
        "Value 0 smaller than min of 1",
        "steps",
    )
    prompt["3"]["inputs"]["steps"] = 20
    prompt["3"]["inputs"]["denoise"] = 2
    (err,) = _failed(api, prompt, "3")
    assert err["type"] == "value_bigger_than_max"
    prompt["3"]["inputs"]["denoise"] = 1
    prompt["3"]["inputs"]["seed"] = "abc"
    (err,) = _failed(api, prompt, "3")
    assert err["type"] == "invalid_input_type"
    assert err["message"] == "Failed to convert an input value to a INT value"


def test_partially_valid_prompt_runs_good_outputs(api: httpx.Client) -> None:
    prompt = example_prompt()
    prompt["10"] = {"class_type": "PreviewImage", "inputs": {"images": ["11", 0]}}
    prompt["11"] = {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0]}}
    r = api.post("/prompt", json={"prompt": prompt})
    assert r.status_code == 200
    body = r.json()
    assert body["node_errors"]["11"]["dependent_outputs"] == ["10"]
    assert body["node_errors"]["11"]["errors"][0]["type"] == "required_input_missing"
    entry = wait_for(
        lambda: api.get(f"/history/{body['prompt_id']}").json(),
        20,
        "the prompt's history",
        interval=0.02,
    )
    assert list(entry[body["prompt_id"]]["outputs"]) == ["9"]


# -- files: /view, /upload/image, LoadImage, PreviewImage ------------------------------------


def test_view_path_checks(addr: str, api: httpx.Client) -> None:
    pid = api.post("/prompt", json={"prompt": example_prompt()}).json()["prompt_id"]
    entry = wait_for(
        lambda: api.get(f"/history/{pid}").json(), 20, "the prompt's history", interval=0.02
    )
    image = entry[pid]["outputs"]["9"]["images"][0]
    ok = api.get("/view", params={"filename": image["filename"], "type": "output", "subfolder": ""})
    assert ok.status_code == 200 and ok.headers["content-type"] == "image/png"
    assert png_size(ok.content) == (512, 512)
    assert api.get("/view", params={"filename": f"{image['filename']} [output]"}).status_code == 200
    assert api.get("/view", params={"filename": "../secret.png"}).status_code == 400
    assert api.get("/view", params={"filename": "/etc/passwd"}).status_code == 400
    assert api.get("/view", params={"filename": "x.png", "type": "bogus"}).status_code == 400
    assert (
        api.get("/view", params={"filename": "x.png", "subfolder": "../../.."}).status_code == 403
    )
    assert api.get("/view", params={"filename": "missing.png"}).status_code == 404
    assert api.get("/view").status_code == 404
    rgb = api.get("/view", params={"filename": image["filename"], "channel": "rgb"})
    assert rgb.status_code == 200 and png_size(rgb.content) == (512, 512)
    webp = api.get("/view", params={"filename": image["filename"], "preview": "webp;50"})
    assert webp.headers["content-type"] == "image/webp"


def test_upload_load_image_and_preview(api: httpx.Client) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (40, 24), (10, 200, 30)).save(buf, format="PNG")
    png = buf.getvalue()
    r = api.post("/upload/image", files={"image": ("green.png", png, "image/png")})
    assert r.status_code == 200
    assert r.json() == {"name": "green.png", "subfolder": "", "type": "input"}
    again = api.post("/upload/image", files={"image": ("green.png", png, "image/png")})
    assert again.json()["name"] == "green.png"
    buf2 = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 0)).save(buf2, format="PNG")
    other = api.post("/upload/image", files={"image": ("green.png", buf2.getvalue(), "image/png")})
    assert other.json()["name"] == "green (1).png"
    assert api.post("/upload/image", data={"type": "input"}).status_code == 400
    info = api.get("/object_info/LoadImage").json()["LoadImage"]
    assert {"green.png", "green (1).png", "example.png"} <= set(
        info["input"]["required"]["image"][0]
    )

    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "green.png"}},
        "2": {
            "class_type": "SaveImage",
            "inputs": {"images": ["1", 0], "filename_prefix": "sub/up"},
        },
        "3": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}},
    }
    pid = api.post("/prompt", json={"prompt": prompt}).json()["prompt_id"]
    outputs = wait_for(
        lambda: api.get(f"/history/{pid}").json(), 20, "the prompt's history", interval=0.02
    )[pid]["outputs"]
    saved = outputs["2"]["images"][0]
    assert saved == {"filename": "up_00001_.png", "subfolder": "sub", "type": "output"}
    view = api.get("/view", params=saved)
    assert pixels(view.content) == pixels(png)
    preview = outputs["3"]["images"][0]
    assert preview["type"] == "temp" and preview["filename"].startswith("ComfyUI_temp_")
    assert api.get("/view", params=preview).status_code == 200

    bad = {**prompt, "1": {"class_type": "LoadImage", "inputs": {"image": "nope.png"}}}
    data = post_error(api, {"prompt": bad})
    (err,) = data["node_errors"]["1"]["errors"]
    assert err["type"] == "custom_validation_failed"
    assert err["details"] == "image - Invalid image file: nope.png"


# -- info routes, /api prefix, namespaces, control journal ------------------------------------


def test_info_routes(api: httpx.Client) -> None:
    stats = api.get("/system_stats").json()
    # server.py system_stats at Comfy-Org/ComfyUI v0.3.77, run with --cpu
    assert set(stats["system"]) == {
        "os",
        "ram_total",
        "ram_free",
        "comfyui_version",
        "required_frontend_version",
        "installed_templates_version",
        "required_templates_version",
        "python_version",
        "pytorch_version",
        "embedded_python",
        "argv",
    }
    assert stats["system"]["os"] == "posix"
    assert stats["system"]["comfyui_version"] == "0.3.77"
    device = stats["devices"][0]
    assert (device["name"], device["type"], device["index"]) == ("cpu", "cpu", None)
    assert device["vram_total"] == device["torch_vram_total"] == stats["system"]["ram_total"]
    # comfy_api/feature_flags.py SERVER_FEATURE_FLAGS at v0.3.77
    assert api.get("/features").json() == {
        "supports_preview_metadata": True,
        "max_upload_size": 104857600,
    }
    info = api.get("/api/object_info").json()
    expected = {
        "CheckpointLoaderSimple",
        "CLIPTextEncode",
        "EmptyLatentImage",
        "KSampler",
        "VAEDecode",
        "SaveImage",
        "SaveImageWebsocket",
        "LoadImage",
        "PreviewImage",
    }
    assert expected <= set(info)
    ks = api.get("/object_info/KSampler").json()["KSampler"]
    assert ks["output"] == ["LATENT"] and ks["output_node"] is False
    assert api.get("/object_info/Nope").json() == {}
    assert isinstance(api.get("/embeddings").json(), list)
    assert "checkpoints" in api.get("/models").json()
    assert "v1-5-pruned-emaonly.safetensors" in api.get("/api/models/checkpoints").json()
    assert api.get("/models/nope").status_code == 404
    assert api.get("/__harness/health").json() == {"status": "ok", "service": "comfyui"}


def test_namespaces_are_isolated(addr: str, base: str, namespace: str) -> None:
    with (
        httpx.Client(base_url=base, headers={H: namespace + "a"}) as a,
        httpx.Client(base_url=base, headers={H: namespace + "b"}) as b,
    ):
        ws_b = connect(addr, "watcher", namespace + "b")
        json.loads(ws_b.recv())
        pid = a.post("/prompt", json={"prompt": example_prompt()}).json()["prompt_id"]
        entry = wait_for(
            lambda: a.get(f"/history/{pid}").json(), 20, "the prompt's history", interval=0.02
        )
        image = entry[pid]["outputs"]["9"]["images"][0]
        assert b.get(f"/history/{pid}").json() == {}
        assert b.get("/history").json() == {}
        assert b.get("/view", params=image).status_code == 404
        assert a.get("/view", params=image).status_code == 200
        assert b.get("/prompt").json()["exec_info"]["queue_remaining"] == 0
        ws_b.settimeout(0.3)
        with pytest.raises(websocket.WebSocketTimeoutException):
            ws_b.recv()
        ws_b.close()
        assert a.post("/__harness/reset").status_code == 200
        assert a.get("/history").json() == {}


def test_control_journal_seen_through_httpx(api: httpx.Client) -> None:
    assert api.post("/prompt", json={"prompt": example_prompt()}).status_code == 200
    posts = api.get("/__harness/requests", params={"path": "/prompt", "method": "POST"}).json()
    assert [p["status"] for p in posts] == [200]
    assert json.loads(posts[0]["body"])["prompt"]["3"]["class_type"] == "KSampler"


def test_unparseable_body_is_a_server_error(api: httpx.Client) -> None:
    r = api.post("/prompt", content=b"{not json")
    assert r.status_code == 500


V0377_NODE_KEYS = {
    "input",
    "input_order",
    "output",
    "output_is_list",
    "output_name",
    "name",
    "display_name",
    "description",
    "python_module",
    "category",
    "output_node",
}


def test_object_info_has_the_release_keys_and_shapes(api: httpx.Client) -> None:
    """server.py node_info at Comfy-Org/ComfyUI v0.3.77: no search_aliases or
    has_intermediate_output; PreviewImage and SaveImageWebsocket take ["IMAGE"]."""
    info = api.get("/object_info").json()
    assert not any({"search_aliases", "has_intermediate_output"} & set(n) for n in info.values())
    assert set(info["PreviewImage"]) == V0377_NODE_KEYS
    assert set(info["KSampler"]) == V0377_NODE_KEYS | {"output_tooltips"}
    # comfy_api v3 nodes (comfy_extras/nodes_primitive.py) add four keys
    v3 = {"output_tooltips", "api_node", "deprecated", "experimental"}
    assert set(info["PrimitiveInt"]) == V0377_NODE_KEYS | v3
    assert info["PreviewImage"]["input"]["required"]["images"] == ["IMAGE"]
    assert info["SaveImageWebsocket"]["input"]["required"]["images"] == ["IMAGE"]
    assert info["SaveImageWebsocket"]["category"] == "api/image"  # websocket_image_save.py
    samplers = info["KSampler"]["input"]["required"]["sampler_name"][0]
    assert len(samplers) == 42 and "sa_solver_pece" in samplers


def test_a_sampler_added_by_the_release_is_accepted(api: httpx.Client) -> None:
    prompt = example_prompt()
    prompt["3"]["inputs"]["sampler_name"] = "sa_solver_pece"  # comfy/samplers.py, v0.3.77
    assert api.post("/prompt", json={"prompt": prompt}).status_code == 200


def test_saved_png_carries_prompt_and_workflow_chunks(api: httpx.Client) -> None:
    """nodes.py SaveImage.save_images (v0.3.77): tEXt `prompt` = json.dumps(prompt), and
    one chunk per extra_pnginfo key (the frontend's `workflow`)."""
    prompt = example_prompt(seed=21)
    workflow = {"nodes": [], "links": [], "version": 0.4}
    body = {"prompt": prompt, "extra_data": {"extra_pnginfo": {"workflow": workflow}}}
    pid = api.post("/prompt", json=body).json()["prompt_id"]
    entry = wait_for(
        lambda: api.get(f"/history/{pid}").json().get(pid),
        20,
        "the prompt's history",
        interval=0.02,
    )
    image = entry["outputs"]["9"]["images"][0]
    png = Image.open(io.BytesIO(api.get("/view", params=image).content))
    assert json.loads(png.text["prompt"]) == prompt
    assert json.loads(png.text["workflow"]) == workflow


# Shapes a real Comfy-Org/ComfyUI v0.3.77 (CPU, no models) gave for this model-free graph,
# read from its PNGs (nodes.py EmptyImage/ImageInvert/SolidMask/MaskToImage).
MODEL_FREE_PROMPT: dict[str, Any] = {
    "1": {
        "class_type": "EmptyImage",
        "inputs": {"width": 96, "height": 40, "batch_size": 3, "color": 0xFF0000},
    },
    "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
    "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "mf"}},
    "4": {"class_type": "SolidMask", "inputs": {"value": 0.5, "width": 24, "height": 16}},
    "5": {"class_type": "MaskToImage", "inputs": {"mask": ["4", 0]}},
    "6": {"class_type": "PreviewImage", "inputs": {"images": ["5", 0]}},
}
REAL_SHAPES = {"3": [(96, 40, (0, 255, 255))] * 3, "6": [(24, 16, (127, 127, 127))]}


# Crop clamps its origin and size, the batch is repeated then sliced past its end, a
# threshold mask is 0/1: a real Comfy-Org/ComfyUI v0.3.77 gave these
# (comfy_extras/nodes_images.py ImageCrop/RepeatImageBatch/ImageFromBatch/ImageFlip,
# comfy_extras/nodes_mask.py ThresholdMask).
BATCH_PROMPT: dict[str, Any] = {
    "1": {
        "class_type": "EmptyImage",
        "inputs": {"width": 50, "height": 30, "batch_size": 2, "color": 0x00FF00},
    },
    "2": {
        "class_type": "ImageCrop",
        "inputs": {"image": ["1", 0], "width": 20, "height": 100, "x": 40, "y": 5},
    },
    "3": {"class_type": "RepeatImageBatch", "inputs": {"image": ["2", 0], "amount": 3}},
    "4": {
        "class_type": "ImageFromBatch",
        "inputs": {"image": ["3", 0], "batch_index": 4, "length": 5},
    },
    "5": {
        "class_type": "ImageFlip",
        "inputs": {"image": ["4", 0], "flip_method": "x-axis: vertically"},
    },
    "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "b"}},
    "7": {"class_type": "SolidMask", "inputs": {"value": 0.6, "width": 12, "height": 9}},
    "8": {"class_type": "ThresholdMask", "inputs": {"mask": ["7", 0], "value": 0.5}},
    "9": {"class_type": "MaskToImage", "inputs": {"mask": ["8", 0]}},
    "10": {"class_type": "PreviewImage", "inputs": {"images": ["9", 0]}},
}


def image_scale(method: str, width: int, height: int, crop: str) -> dict[str, Any]:
    inputs = {"image": ["1", 0], "upscale_method": method, "width": width, "height": height}
    return {"class_type": "ImageScale", "inputs": {**inputs, "crop": crop}}


# nodes.py ImageScale (a 0 side keeps the aspect, centre crop) and ImageScaleBy (rounded)
SCALE_PROMPT: dict[str, Any] = {
    "1": {
        "class_type": "EmptyImage",
        "inputs": {"width": 50, "height": 30, "batch_size": 1, "color": 0x0000FF},
    },
    "2": image_scale("bilinear", 0, 45, "disabled"),
    "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "s1"}},
    "4": image_scale("nearest-exact", 20, 20, "center"),
    "5": {"class_type": "SaveImage", "inputs": {"images": ["4", 0], "filename_prefix": "s2"}},
    "6": {
        "class_type": "ImageScaleBy",
        "inputs": {"image": ["1", 0], "upscale_method": "area", "scale_by": 0.33},
    },
    "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "s3"}},
}
SCALE_REAL_SHAPES = {
    "3": [(75, 45, (0, 0, 255))],
    "5": [(20, 20, (0, 0, 255))],
    "7": [(16, 10, (0, 0, 255))],
}
BATCH_REAL_SHAPES = {"6": [(10, 25, (0, 255, 0))] * 2, "10": [(12, 9, (255, 255, 255))]}


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (MODEL_FREE_PROMPT, REAL_SHAPES),
        (BATCH_PROMPT, BATCH_REAL_SHAPES),
        (SCALE_PROMPT, SCALE_REAL_SHAPES),
    ],
    ids=["colours-and-masks", "crop-and-batches", "scale"],
)
def test_model_free_graph_gives_the_real_servers_shapes(
    api: httpx.Client, prompt: dict[str, Any], expected: dict[str, Any]
) -> None:
    pid = api.post("/prompt", json={"prompt": prompt}).json()["prompt_id"]
    entry = wait_for(
        lambda: api.get(f"/history/{pid}").json().get(pid),
        20,
        "the prompt's history",
        interval=0.02,
    )
    got = {}
    for node, out in entry["outputs"].items():
        got[node] = []
        for image in out["images"]:
            png = Image.open(io.BytesIO(api.get("/view", params=image).content)).convert("RGB")
            got[node].append((png.width, png.height, png.getpixel((0, 0))))
    assert got == expected


def test_dependency_cycle_fails_validation_without_node_errors(api: httpx.Client) -> None:
    """A running Comfy-Org/ComfyUI v0.3.77 (execution.py validate_inputs) answers a cycle
    with prompt_outputs_failed_validation, empty details and no node_errors."""
    prompt = {
        "1": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "c"}},
    }
    assert post_error(api, {"prompt": prompt}) == {
        "error": {
            "type": "prompt_outputs_failed_validation",
            "message": "Prompt outputs failed validation",
            "details": "",
            "extra_info": {},
        },
        "node_errors": {},
    }


def test_unknown_route_is_an_empty_404(api: httpx.Client) -> None:
    """aiohttp's default 404 as ComfyUI v0.3.77 serves it: no body."""
    for path in ("/nope", "/api/nope"):
        r = api.get(path)
        assert (r.status_code, r.content) == (404, b"")


def test_model_folders_are_the_releases(api: httpx.Client) -> None:
    """folder_paths.py folder_names_and_paths at Comfy-Org/ComfyUI v0.3.77."""
    folders = api.get("/models").json()
    assert folders[-3:] == ["classifiers", "model_patches", "audio_encoders"]
    assert "latent_upscale_models" in folders and len(folders) == 21


def test_small_routes_of_the_release(api: httpx.Client) -> None:
    """Comfy-Org/ComfyUI v0.3.77 server.py and app/user_manager.py, as a fresh --cpu server
    answered them."""
    assert api.get("/settings").json() == {}
    assert api.get("/users").json() == {"storage": "server", "migrated": True}
    extensions = api.get("/api/extensions").json()
    assert "/extensions/core/groupNode.js" in extensions
    assert isinstance(api.get("/internal/logs").json(), str)


def test_upload_with_an_unknown_type_is_a_server_error(api: httpx.Client) -> None:
    """server.py image_upload: folder_paths.get_directory_by_type("bogus") is None and
    os.path.join(None, ...) raises, so aiohttp answers 500 (v0.3.77)."""
    r = api.post("/upload/image", files={"image": ("t.png", b"x")}, data={"type": "bogus"})
    assert r.status_code == 500
