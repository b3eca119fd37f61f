"""ComfyUI mock conformance: issue 22 item 5, the last known differences from a real
comfyanonymous/ComfyUI v0.3.77 (tag v0.3.77, 59afc398; its aiohttp 3.14), each checked side by
side with a real `--cpu` run and cited here by file and line."""

from __future__ import annotations

import io
import json
import struct
import uuid
from typing import Any

import httpx
import pytest
import websocket
from PIL import Image

from harness.mocks import NAMESPACE_HEADER

SERVER_ERROR = "500 Internal Server Error\n\nServer got itself in trouble"
MISSING_CLASS_TYPE = "Cannot execute because a node is missing the class_type property."


def _post(api: httpx.Client, body: bytes) -> httpx.Response:
    return api.post("/prompt", content=body, headers={"Content-Type": "application/json"})


def _save(images: list[Any]) -> dict[str, Any]:
    return {"class_type": "SaveImage", "inputs": {"images": images, "filename_prefix": "f"}}


# -- POST /prompt on JSON that is not a graph of objects ---------------------------------------


@pytest.mark.parametrize(
    ("prompt", "node"),
    [
        ({"1": "x"}, "1"),
        ({"1": ["x"]}, "1"),
        ([1, "x"], "1"),
        ({"1": _save([]), "2": "x"}, "2"),
    ],
    ids=["string-node", "list-node", "list-prompt", "second-node"],
)
def test_a_node_without_class_type_is_invalid_prompt_whatever_its_type(
    comfyui_api: httpx.Client, prompt: Any, node: str
) -> None:
    """comfyanonymous/ComfyUI v0.3.77 execution.py 982-990: `for x in prompt: if
    'class_type' not in prompt[x]` is a substring test on a string node and a membership test
    on a list (a list prompt is indexed by its items: [1, "x"] reaches "x" as node 1)."""
    r = comfyui_api.post("/prompt", json={"prompt": prompt})
    assert r.status_code == 400
    assert r.json() == {
        "error": {
            "type": "invalid_prompt",
            "message": MISSING_CLASS_TYPE,
            "details": f"Node ID '#{node}'",
            "extra_info": {},
        },
        "node_errors": {},
    }


@pytest.mark.parametrize(
    "body",
    [
        b'{"prompt": {"1": "has a class_type inside"}}',
        b'{"prompt": {"1": ["class_type"]}}',
        b'{"prompt": {"1": 5}}',
        b'{"prompt": {"1": null}}',
        b'{"prompt": {"1": {"class_type": [1]}}}',
        b'{"prompt": "x"}',
        b'"prompt"',
        b'["number"]',
        b'["prompt"]',
        b"5",
        b"null",
        b"{",
    ],
)
def test_what_raises_in_post_prompt_is_aiohttps_500(comfyui_api: httpx.Client, body: bytes) -> None:
    """comfyanonymous/ComfyUI v0.3.77 server.py 720-762 and execution.py 982-993 catch
    nothing: a string node that contains "class_type" passes the substring test and
    `prompt[x]['class_type']` raises TypeError (so does `in` on a number or null, a list
    class_type in NODE_CLASS_MAPPINGS.get, `json_data["prompt"]` on a string or list body);
    aiohttp answers 500 with its own text and closes the connection."""
    r = _post(comfyui_api, body)
    assert (r.status_code, r.text) == (500, SERVER_ERROR)
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["connection"] == "close"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b'{"prompt": ""}', "prompt_no_outputs"),
        (b'{"prompt": []}', "prompt_no_outputs"),
        (b'"x"', "no_prompt"),
    ],
)
def test_empty_prompts_and_a_string_body_without_prompt_are_400(
    comfyui_api: httpx.Client, body: bytes, kind: str
) -> None:
    """comfyanonymous/ComfyUI v0.3.77 server.py 735 (`"prompt" in json_data`: a substring
    test on a string body) and execution.py 1007-1014 (an empty string or list has no
    outputs)."""
    r = _post(comfyui_api, body)
    assert r.status_code == 400
    assert r.json()["error"]["type"] == kind


@pytest.mark.parametrize(
    ("source", "slot", "message"),
    [
        ({"class_type": "LoadImage", "inputs": {"image": "example.png"}}, 5, "tuple index"),
        (
            {"class_type": "EmptySD3LatentImage", "inputs": {"width": 64, "height": 64}},
            5,
            "list index",
        ),
        (
            {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
            "a",
            "tuple indices must be integers or slices, not str",
        ),
    ],
    ids=["v1-node", "v3-node", "string-slot"],
)
def test_a_bad_output_slot_reads_as_the_releases_index_error(
    comfyui_api: httpx.Client, source: dict[str, Any], slot: Any, message: str
) -> None:
    """comfyanonymous/ComfyUI v0.3.77 execution.py 803-804: `r = ...RETURN_TYPES;
    r[val[1]]`. A v1 node's RETURN_TYPES is a tuple (nodes.py); a comfy_api v3 node's is the
    list comfy_api/latest/_io.py 1490 builds."""
    prompt = {"1": source, "2": _save(["1", slot])}
    r = comfyui_api.post("/prompt", json={"prompt": prompt})
    assert r.status_code == 400
    (error,) = r.json()["node_errors"]["2"]["errors"]
    assert error["type"] == "exception_during_validation"
    expected = f"{message} out of range" if slot == 5 else message
    assert error["details"] == expected


# -- SaveImageWebsocket through the progress hook ---------------------------------------------


def _frames(base: str, namespace: str, prompt: dict[str, Any], metadata: bool) -> list[Any]:
    client_id = uuid.uuid4().hex
    ws = websocket.WebSocket()
    addr = base.removeprefix("http://")
    ws.connect(
        f"ws://{addr}/ws?clientId={client_id}",
        header=[f"{NAMESPACE_HEADER}: {namespace}"],
        timeout=30,
    )
    try:
        if metadata:
            flags = {"supports_preview_metadata": True}
            ws.send(json.dumps({"type": "feature_flags", "data": flags}))
        with httpx.Client(base_url=base, headers={NAMESPACE_HEADER: namespace}) as api:
            body = {"prompt": prompt, "client_id": client_id}
            prompt_id = api.post("/prompt", json=body).json()["prompt_id"]
        frames: list[Any] = []
        while True:
            out = ws.recv()
            if isinstance(out, bytes):
                frames.append(out)
                continue
            msg = json.loads(out)
            if msg["type"] == "executing" and msg["data"]["node"] is None:
                return frames
            if msg["data"].get("prompt_id") == prompt_id:
                frames.append(msg)
    finally:
        ws.close()


def _after_executing(frames: list[Any], node: str) -> list[Any]:
    start = next(
        i
        for i, f in enumerate(frames)
        if isinstance(f, dict) and f["type"] == "executing" and f["data"]["node"] == node
    )
    return frames[start + 1 :]


def _batch_prompt(batch: int) -> dict[str, Any]:
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 8, "height": 4, "batch_size": batch, "color": 0x0A64C8},
        },
        "2": {"class_type": "SaveImageWebsocket", "inputs": {"images": ["1", 0]}},
    }


def test_save_image_websocket_reports_progress_before_each_frame(
    comfyui_base: str, namespace: str
) -> None:
    """comfyanonymous/ComfyUI v0.3.77 custom_nodes/websocket_image_save.py 28-34: a
    ProgressBar over the batch, `update_absolute(step, N, ("PNG", img, None))` per image;
    main.py 256-281 hijack_progress: progress_state (comfy_execution/progress.py
    update_handler), then `progress`, then the PNG as event 1 format 2 (server.py send_image);
    finish_progress sets value to the int max."""
    frames = _after_executing(_frames(comfyui_base, namespace, _batch_prompt(2), False), "2")
    kinds = [f["type"] if isinstance(f, dict) else "binary" for f in frames]
    assert kinds == [
        "progress_state",
        "progress",
        "binary",
        "progress_state",
        "progress",
        "binary",
        "progress_state",
        "execution_success",
    ]
    for step in (0, 1):
        state = frames[3 * step]["data"]["nodes"]["2"]
        assert (state["value"], state["max"], state["state"]) == (step, 2, "running")
        progress = frames[3 * step + 1]["data"]
        assert (progress["value"], progress["max"], progress["node"]) == (step, 2, "2")
        frame = frames[3 * step + 2]
        assert struct.unpack(">II", frame[:8]) == (1, 2)
        with Image.open(io.BytesIO(frame[8:])) as img:
            assert (img.format, img.size) == ("PNG", (8, 4))
    done = frames[6]["data"]["nodes"]["2"]
    assert done["state"] == "finished"
    assert type(done["value"]) is int and type(done["max"]) is int  # 2, not 2.0
    assert (done["value"], done["max"]) == (2, 2)


def test_save_image_websocket_to_a_preview_metadata_client_is_event_4_png(
    comfyui_base: str, namespace: str
) -> None:
    """comfyanonymous/ComfyUI v0.3.77 comfy_execution/progress.py 196-231: a client that
    announced supports_preview_metadata gets the image as event 4 within update_progress,
    before `progress`, with image_type image/png (server.py 960-995 send_image_with_metadata);
    main.py 272-281 then sends no event 1."""
    frames = _after_executing(_frames(comfyui_base, namespace, _batch_prompt(1), True), "2")
    kinds = [f["type"] if isinstance(f, dict) else "binary" for f in frames]
    assert kinds == ["progress_state", "binary", "progress", "progress_state", "execution_success"]
    event, length = struct.unpack(">II", frames[1][:8])
    metadata = json.loads(frames[1][8 : 8 + length])
    assert event == 4 and metadata["image_type"] == "image/png" and metadata["node_id"] == "2"
    with Image.open(io.BytesIO(frames[1][8 + length :])) as img:
        assert img.format == "PNG"


# -- routes no handler takes, and aiohttp's own answers ---------------------------------------


@pytest.mark.parametrize(
    ("path", "cache_control"),
    [
        ("/nonexistent", None),
        ("/api/nonexistent", None),
        ("/history/x/y", None),
        ("/nonexistent.png", "public, max-age=86400"),
        ("/nonexistent.js", "no-cache"),
    ],
)
def test_an_unknown_get_is_the_static_routes_404(
    comfyui_api: httpx.Client, path: str, cache_control: str | None
) -> None:
    """comfyanonymous/ComfyUI v0.3.77 server.py 904-906 adds `web.static('/', web_root)` last:
    it takes every GET, and a missing file is aiohttp's FileResponse answering 404 with
    application/octet-stream and an empty body; middleware/cache_control (server.py 203) saw
    it as a 200 and adds its Cache-Control for scripts and images."""
    r = comfyui_api.get(path)
    assert (r.status_code, r.content) == (404, b"")
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers.get("cache-control") == cache_control


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/nonexistent", "GET,HEAD"),
        ("PUT", "/api/nonexistent", "GET,HEAD"),
        ("POST", "/system_stats", "GET,HEAD"),
        ("DELETE", "/prompt", "GET,HEAD,POST"),
    ],
)
def test_another_method_is_aiohttps_405(
    comfyui_api: httpx.Client, method: str, path: str, allow: str
) -> None:
    """comfyanonymous/ComfyUI v0.3.77 server.py 904-906: the static route (GET, HEAD) matches
    every path, so another method is aiohttp's 405, Allow listing the path's methods."""
    r = comfyui_api.request(method, path)
    assert (r.status_code, r.text) == (405, "405: Method Not Allowed")
    assert r.headers["allow"] == allow


def test_options_internal_and_head_answers(comfyui_api: httpx.Client) -> None:
    """comfyanonymous/ComfyUI v0.3.77 server.py 158-159 (create_origin_only_middleware
    answers OPTIONS itself) and 851 (`/internal` is a sub-app: its own 404 text)."""
    r = comfyui_api.options("/prompt")
    assert (r.status_code, r.content) == (200, b"")
    for method in ("GET", "POST"):
        r = comfyui_api.request(method, "/internal/nope")
        assert (r.status_code, r.text) == (404, "404: Not Found")
    head = comfyui_api.head("/nonexistent")
    assert head.status_code == 404 and "content-type" not in head.headers


def test_userdata_listing(comfyui_api: httpx.Client) -> None:
    """comfyanonymous/ComfyUI v0.3.77 app/user_manager.py 149-211 listuserdata (with
    get_request_user_filepath 71-101 for the single "default" user, which creates the
    requested folder's parent)."""
    cases = [
        ({}, 400, "Directory not provided"),
        ({"dir": ""}, 400, "Directory not provided"),
        ({"dir": "workflows"}, 404, "Directory not found"),
        ({"dir": ".."}, 403, "Invalid directory"),
        ({"dir": "/"}, 403, "Invalid directory"),
    ]
    for params, status, text in cases:
        r = comfyui_api.get("/userdata", params=params)
        assert (r.status_code, r.text) == (status, text), params
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert comfyui_api.get("/api/userdata", params={"dir": "workflows"}).status_code == 404
    assert comfyui_api.get("/userdata", params={"dir": "."}).json() == []
    assert comfyui_api.get("/userdata", params={"dir": "made/deeper"}).status_code == 404
    assert comfyui_api.get("/userdata", params={"dir": "made"}).json() == []


def _multipart(filename: bytes, content: bytes) -> tuple[bytes, dict[str, str]]:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="image"; filename="'
        + filename
        + b'"\r\nContent-Type: image/png\r\n\r\n'
        + content
        + b"\r\n--B--\r\n"
    )
    return body, {"Content-Type": "multipart/form-data; boundary=B"}


@pytest.mark.parametrize(
    ("content", "status"), [(b"png bytes", 500), (b"", 400)], ids=["content", "empty"]
)
def test_an_image_part_with_an_empty_filename_is_a_plain_value(
    comfyui_api: httpx.Client, content: bytes, status: int
) -> None:
    """aiohttp's request.post() keeps a part whose filename is empty as its bytes, not a
    FileField; comfyanonymous/ComfyUI v0.3.77 server.py 368 `if image and image.file` then
    raises AttributeError (aiohttp's 500) on bytes, and answers 400 on empty ones."""
    body, headers = _multipart(b"", content)
    r = comfyui_api.post("/upload/image", content=body, headers=headers)
    assert r.status_code == status
    if status == 500:
        assert r.text == SERVER_ERROR


@pytest.mark.parametrize("query", ["max_items=abc", "offset=abc"])
def test_history_with_a_bad_number_is_aiohttps_500(comfyui_api: httpx.Client, query: str) -> None:
    """comfyanonymous/ComfyUI v0.3.77 server.py 692-701: int() on the query raises
    ValueError; aiohttp answers its text, or its HTML page to a client accepting text/html."""
    r = comfyui_api.get(f"/history?{query}")
    assert (r.status_code, r.text) == (500, SERVER_ERROR)
    html = comfyui_api.get(f"/history?{query}", headers={"Accept": "text/html"})
    assert html.status_code == 500
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.text == (
        "<html><head><title>500 Internal Server Error</title></head><body>\n"
        "<h1>500 Internal Server Error</h1>\nServer got itself in trouble\n</body></html>\n"
    )


def test_json_is_web_json_responses_and_get_routes_answer_head(comfyui_api: httpx.Client) -> None:
    """comfyanonymous/ComfyUI v0.3.77 server.py answers with aiohttp's web.json_response
    (`json.dumps`: ", " and ": " separators, ASCII escapes; `application/json;
    charset=utf-8`), and its `routes.get` also serve HEAD (aiohttp's allow_head)."""
    r = comfyui_api.post("/prompt", json={"prompt": {"1": "x"}})
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.content.startswith(b'{"error": {"type": "invalid_prompt", "message": ')
    assert r.content == json.dumps(r.json()).encode()
    head = comfyui_api.head("/api/queue")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == "application/json; charset=utf-8"
    assert int(head.headers["content-length"]) == len(comfyui_api.get("/api/queue").content)
