"""ComfyUI HTTP and WebSocket routes (served at / and under /api, and /internal): module-level
handlers, their state on the app (`create_app`), one table."""

from __future__ import annotations

import asyncio
import glob
import hashlib
import json
import mimetypes
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib import parse

from fastapi import Request, WebSocket
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from starlette.datastructures import UploadFile
from starlette.requests import HTTPConnection

from .._control import WEBSOCKET, Route, namespace_of, plane_of
from . import _nodes
from ._executor import worker
from ._state import Client, Hub, QueueItem, Space
from ._validate import NO_PROMPT, validate_prompt

# folder_paths.folder_names_and_paths at v0.3.77, in its order
MODEL_FOLDERS: dict[str, list[str]] = {
    "checkpoints": _nodes.checkpoints(),
    "configs": ["v1-inference.yaml", "v2-inference.yaml"],
    **{
        name: []
        for name in (
            "loras",
            "vae",
            "text_encoders",
            "diffusion_models",
            "clip_vision",
            "style_models",
            "embeddings",
            "diffusers",
            "vae_approx",
            "controlnet",
            "gligen",
            "upscale_models",
            "latent_upscale_models",
            "custom_nodes",
            "hypernetworks",
            "photomaker",
            "classifiers",
            "model_patches",
            "audio_encoders",
        )
    },
}
INTERNAL = "/internal"  # internal_routes.py's sub-app
RELEASE = "0.3.77"  # Comfy-Org/ComfyUI tag v0.3.77 (59afc398); see README.md
FRONTEND_VERSION = "1.32.10"  # requirements.txt comfyui-frontend-package at v0.3.77
TEMPLATES_VERSION = "0.7.25"  # requirements.txt comfyui-workflow-templates at v0.3.77
# comfy_api/feature_flags.py SERVER_FEATURE_FLAGS (max_upload_size: 100 MB default)
FEATURES: dict[str, Any] = {"supports_preview_metadata": True, "max_upload_size": 104857600}
# GET /extensions of a v0.3.77 server with its pinned frontend and no custom web extensions
EXTENSIONS = [
    "/extensions/core/groupNode.js",
    "/extensions/core/maskEditorOld.js",
    "/extensions/core/clipspace.js",
    "/extensions/core/widgetInputs.js",
    "/extensions/core/groupNodeManage.js",
    "/extensions/core/maskeditor/constants.js",
    "/extensions/core/maskeditor/types.js",
    "/extensions/core/load3d/ViewHelperManager.js",
    "/extensions/core/load3d/ControlsManager.js",
    "/extensions/core/load3d/RecordingManager.js",
    "/extensions/core/load3d/ModelExporter.js",
    "/extensions/core/load3d/AnimationManager.js",
    "/extensions/core/load3d/LoaderManager.js",
    "/extensions/core/load3d/LightingManager.js",
    "/extensions/core/load3d/CameraManager.js",
    "/extensions/core/load3d/SceneModelManager.js",
    "/extensions/core/load3d/SceneManager.js",
    "/extensions/core/load3d/interfaces.js",
    "/extensions/core/load3d/exportMenuHelper.js",
    "/extensions/core/load3d/EventManager.js",
]
SERVER_ERROR = "500 Internal Server Error\n\nServer got itself in trouble"
SERVER_ERROR_HTML = (
    "<html><head><title>500 Internal Server Error</title></head><body>\n"
    "<h1>500 Internal Server Error</h1>\nServer got itself in trouble\n</body></html>\n"
)
# execution.py SENSITIVE_EXTRA_DATA_KEYS: popped from extra_data before queueing
SENSITIVE_EXTRA_DATA_KEYS = ("auth_token_comfy_org", "api_key_comfy_org")
NO_CACHE = {"Cache-Control": "no-cache", "Pragma": "no-cache", "Expires": "0"}
INDEX_HTML = (
    '<!doctype html><html lang="en"><head><meta charset="UTF-8"><title>ComfyUI</title>'
    "</head><body>ComfyUI mock (no frontend bundled)</body></html>"
)


class Json(JSONResponse):
    """aiohttp's web.json_response: `json.dumps` with its default separators (and ASCII
    escapes), `application/json; charset=utf-8`."""

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return json.dumps(content).encode()


def server_error(request: HTTPConnection) -> Response:
    """What aiohttp answers when a handler raises (web_protocol.py handle_error, aiohttp
    3.14): 500, its text or, for a client that accepts text/html, its page, and the
    connection closed."""
    headers = {"Connection": "close"}
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(SERVER_ERROR_HTML, status_code=500, headers=headers)
    return PlainTextResponse(SERVER_ERROR, status_code=500, headers=headers)


def _empty_ok() -> Response:
    return Response(status_code=200)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


def _hub(conn: HTTPConnection) -> Hub:
    """The app's namespaces (`create_app` puts them on the app's state)."""
    hub: Hub = conn.app.state.hub
    return hub


def _space(conn: Request | WebSocket) -> Space:
    hub = _hub(conn)
    space = hub.space(namespace_of(conn))
    if space.worker is None or space.worker.done():
        space.worker = asyncio.get_running_loop().create_task(
            worker(space, hub.config, plane_of(conn).flags)
        )
    return space


# -- the ComfyUI API (server.py), served at / and under /api ---------------------------------


async def websocket(ws: WebSocket) -> None:
    space = _space(ws)
    await ws.accept()
    sid = ws.query_params.get("clientId") or uuid.uuid4().hex
    client = Client(ws)
    space.clients[sid] = client
    try:
        await client.send_json(
            {"type": "status", "data": {"status": space.queue_info(), "sid": sid}}
        )
        if space.client_id == sid and space.last_node_id is not None:
            await client.send_json({"type": "executing", "data": {"node": space.last_node_id}})
        first = True
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if first and text:
                try:
                    data = json.loads(text)
                except ValueError:
                    data = None
                if isinstance(data, dict) and data.get("type") == "feature_flags":
                    client.feature_flags = data.get("data") or {}
                    await client.send_json({"type": "feature_flags", "data": FEATURES})
            first = False
    finally:
        if space.clients.get(sid) is client:
            del space.clients[sid]


async def post_prompt(request: Request) -> Response:
    """server.py post_prompt (Comfy-Org/ComfyUI v0.3.77), step by step on the posted JSON
    whatever its type: `"number" in json_data` and `"prompt" in json_data` are substring
    tests on a string body, membership tests on a list; what raises (a number or null body,
    `json_data["prompt"]` on a list or string, a node the release cannot index) is
    aiohttp's 500, raised on to the app's handler (`server_error`)."""
    space = _space(request)
    body = json.loads(await request.body())  # request.json(): bad JSON raises too
    if "number" in body:
        number: float = float(body["number"])
    else:
        number = space.number
        if "front" in body and body["front"]:  # noqa: RUF019 - a str or list body too
            number = -number
        space.number += 1
    if "prompt" not in body:
        return Json({"error": NO_PROMPT, "node_errors": {}}, status_code=400)
    prompt = body["prompt"]
    # Any prompt_id is taken as given, stringified: str(json_data.get("prompt_id", uuid4())).
    prompt_id = str(body["prompt_id"]) if "prompt_id" in body else str(uuid.uuid4())
    # body is a dict from here on (body["prompt"] would have raised)
    valid = validate_prompt(prompt, space.root, body.get("partial_execution_targets"))
    extra_data = body.get("extra_data", {})
    if "client_id" in body:
        extra_data["client_id"] = body["client_id"]
    if not valid.ok:
        return Json({"error": valid.error, "node_errors": valid.node_errors}, status_code=400)
    for key in SENSITIVE_EXTRA_DATA_KEYS:  # kept out of the queue and history
        if key in extra_data:
            extra_data.pop(key)
    extra_data["create_time"] = int(time.time() * 1000)
    space.put(QueueItem(number, prompt_id, prompt, extra_data, valid.outputs))
    await space.queue_updated()
    return Json({"prompt_id": prompt_id, "number": number, "node_errors": valid.node_errors})


async def get_prompt(request: Request) -> dict[str, Any]:
    return _space(request).queue_info()


async def get_queue(request: Request) -> dict[str, Any]:
    space = _space(request)
    running = [space.running.as_list()] if space.running is not None else []
    return {"queue_running": running, "queue_pending": [i.as_list() for i in space.queue]}


async def post_queue(request: Request) -> Response:
    space = _space(request)
    body = await _json_body(request)
    if not isinstance(body, dict):
        return server_error(request)
    changed = False
    if body.get("clear"):
        space.queue.clear()
        changed = True
    for prompt_id in body.get("delete", []) or []:
        changed = space.delete_pending(prompt_id) or changed
    if changed:
        await space.queue_updated()
    return _empty_ok()


async def post_interrupt(request: Request) -> Response:
    space = _space(request)
    body = await _json_body(request)
    prompt_id = body.get("prompt_id") if isinstance(body, dict) else None
    if not prompt_id or (space.running is not None and space.running.prompt_id == prompt_id):
        space.interrupted = True
    return _empty_ok()


async def post_free(request: Request) -> Response:
    _space(request)
    return _empty_ok()


async def get_history(request: Request) -> dict[str, Any]:
    space = _space(request)
    q = request.query_params
    max_items = int(q["max_items"]) if "max_items" in q else None
    offset = int(q["offset"]) if "offset" in q else -1
    if offset < 0 and max_items is not None:
        offset = len(space.history) - max_items
    out: dict[str, Any] = {}
    for i, (key, entry) in enumerate(space.history.items()):
        if i >= offset:
            out[key] = entry
            if max_items is not None and len(out) >= max_items:
                break
    return out


async def get_history_item(prompt_id: str, request: Request) -> dict[str, Any]:
    entry = _space(request).history.get(prompt_id)
    return {prompt_id: entry} if entry is not None else {}


async def post_history(request: Request) -> Response:
    space = _space(request)
    body = await _json_body(request)
    if not isinstance(body, dict):
        return server_error(request)
    if body.get("clear"):
        space.history.clear()
    for prompt_id in body.get("delete", []) or []:
        space.history.pop(prompt_id, None)
    return _empty_ok()


async def view(request: Request) -> Response:
    return _view(_space(request), request)


async def root() -> Response:
    """server.py get_root: the frontend's index.html, never cached (the mock's page is
    its own, the frontend bundle is not shipped)."""
    return Response(INDEX_HTML, media_type="text/html", headers=NO_CACHE)


async def upload_image(request: Request) -> Response:
    return await _upload(_space(request), request)


async def upload_mask(request: Request) -> Response:
    return await _upload(_space(request), request, mask=True)


async def get_object_info(request: Request) -> dict[str, Any]:
    return _nodes.object_info_for(_space(request).input_files())


async def get_object_info_node(node_class: str, request: Request) -> dict[str, Any]:
    info = _nodes.object_info_for(_space(request).input_files())
    return {node_class: info[node_class]} if node_class in info else {}


async def embeddings() -> list[str]:
    return [os.path.splitext(n)[0] for n in MODEL_FOLDERS["embeddings"]]


async def models() -> list[str]:
    return list(MODEL_FOLDERS)


async def models_in(folder: str) -> Response:
    if folder not in MODEL_FOLDERS:
        return Response(status_code=404)
    return Json(MODEL_FOLDERS[folder])


async def extensions() -> list[str]:
    return list(EXTENSIONS)


async def settings() -> dict[str, Any]:
    """app/user_manager settings of a fresh single-user server."""
    return {}


async def users() -> dict[str, Any]:
    """app/user_manager.py GET /users without --multi-user."""
    return {"storage": "server", "migrated": True}


async def list_userdata(request: Request) -> Response:
    """app/user_manager.py listuserdata (v0.3.77) for the single-user server's "default"
    user, in the namespace's own user folder (the mock writes nothing there itself)."""
    q = request.query_params
    directory = q.get("dir", "")
    if not directory:
        return PlainTextResponse("Directory not provided", status_code=400)
    path = _user_filepath(_space(request), directory)
    if path is None:
        return PlainTextResponse("Invalid directory", status_code=403)
    if not os.path.exists(path):
        return PlainTextResponse("Directory not found", status_code=404)
    recurse = q.get("recurse", "").lower() == "true"
    full_info = q.get("full_info", "").lower() == "true"
    split_path = q.get("split", "").lower() == "true"
    parts = (glob.escape(path), "**", "*") if recurse else (glob.escape(path), "*")
    results: list[Any] = []
    for full_path in glob.glob(os.path.join(*parts), recursive=recurse):
        if not os.path.isfile(full_path):
            continue
        rel_path = os.path.relpath(full_path, path).replace(os.sep, "/")
        if full_info:
            results.append(
                {
                    "path": rel_path,
                    "size": os.path.getsize(full_path),
                    "modified": os.path.getmtime(full_path),
                    "created": os.path.getctime(full_path),
                }
            )
        else:
            results.append([rel_path, *rel_path.split("/")] if split_path else rel_path)
    return Json(results)


def _user_filepath(space: Space, file: str) -> str | None:
    """UserManager.get_request_user_filepath (type userdata, create_dir): None for a path
    that leaves the user's folder; the parent folder is created."""
    root_dir = os.path.abspath(space.root / "user")
    user_root = os.path.join(root_dir, "default")
    os.makedirs(user_root, exist_ok=True)
    if "%" in file:
        file = parse.unquote(file)
    path = os.path.abspath(os.path.join(user_root, file))
    if os.path.commonpath((user_root, path)) != user_root:
        return None
    os.makedirs(os.path.split(path)[0], exist_ok=True)
    return path


async def features() -> dict[str, Any]:
    return dict(FEATURES)


async def system_stats() -> dict[str, Any]:
    return _system_stats()


# -- api_server/routes/internal/internal_routes.py: /internal only ---------------------------
async def internal_logs() -> str:
    """The server's log text (the mock keeps none)."""
    return ""


async def internal_files(directory_type: str, request: Request) -> Response:
    """Top-level files of input/output/temp, newest first."""
    if directory_type not in ("output", "input", "temp"):
        return Json({"error": "Invalid directory type"}, status_code=400)
    folder = _hub(request).space(namespace_of(request)).root / directory_type
    files = sorted((e for e in os.scandir(folder) if e.is_file()), key=_newest_first)
    return Json([e.name for e in files])


def _newest_first(entry: os.DirEntry[str]) -> float:
    return -entry.stat().st_mtime


def _system_stats() -> dict[str, Any]:
    """server.py system_stats at v0.3.77 on a `--cpu` server: os.name, CPU memory as VRAM."""
    page = os.sysconf("SC_PAGE_SIZE")
    ram_total = page * os.sysconf("SC_PHYS_PAGES")
    ram_free = page * os.sysconf("SC_AVPHYS_PAGES")
    return {
        "system": {
            "os": os.name,
            "ram_total": ram_total,
            "ram_free": ram_free,
            "comfyui_version": RELEASE,
            "required_frontend_version": FRONTEND_VERSION,
            "installed_templates_version": TEMPLATES_VERSION,
            "required_templates_version": TEMPLATES_VERSION,
            "python_version": sys.version,
            "pytorch_version": "2.13.0+cpu",
            "embedded_python": False,
            "argv": ["main.py", "--cpu", "--listen", "0.0.0.0", "--port", "8188"],
        },
        "devices": [
            {
                "name": "cpu",
                "type": "cpu",
                "index": None,
                "vram_total": ram_total,
                "vram_free": ram_free,
                "torch_vram_total": ram_total,
                "torch_vram_free": ram_free,
            }
        ],
    }


def _annotated(filename: str) -> tuple[str, str | None]:
    for kind in ("output", "input", "temp"):
        suffix = f" [{kind}]"
        if filename.endswith(suffix):
            return filename[: -len(suffix)], kind
    return filename, None


def _view(space: Space, request: Request) -> Response:
    q = request.query_params
    if "filename" not in q:
        return Response(status_code=404)
    filename, kind = _annotated(q["filename"])
    if not filename:
        return Response(status_code=400)
    if filename[0] == "/" or ".." in filename:
        return Response(status_code=400)
    folder = space.folder(kind or q.get("type", "output"))
    if folder is None:
        return Response(status_code=400)
    base = str(folder.resolve())
    if "subfolder" in q:
        full = folder / q["subfolder"]
        if os.path.commonpath((os.path.abspath(full), base)) != base:
            return Response(status_code=403)
        folder = full
    filename = os.path.basename(filename)
    path = folder / filename
    if not path.is_file():
        return Response(status_code=404)
    headers = {"Content-Disposition": f'filename="{filename}"'}
    if "preview" in q or q.get("channel", "rgba") in ("rgb", "a"):
        return _converted(path, q, filename, headers)
    media = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media, headers=headers)


def _converted(path: Path, q: Any, filename: str, headers: dict[str, str]) -> Response:
    import io

    buf = io.BytesIO()
    with Image.open(path) as img:
        if "preview" in q:
            info = q["preview"].split(";")
            fmt = info[0]
            if fmt not in ("webp", "jpeg") or "a" in q.get("channel", ""):
                fmt = "webp"
            quality = int(info[-1]) if info[-1].isdigit() else 90
            out = img.convert("RGB") if fmt == "jpeg" or q.get("channel", "") == "rgb" else img
            out.save(buf, format=fmt, quality=quality)
            return Response(buf.getvalue(), media_type=f"image/{fmt}", headers=headers)
        if q["channel"] == "rgb":
            img.convert("RGB").save(buf, format="PNG")
        else:
            alpha = img.getchannel("A") if img.mode == "RGBA" else Image.new("L", img.size, 255)
            out = Image.new("RGBA", img.size)
            out.putalpha(alpha)
            out.save(buf, format="PNG")
    return Response(buf.getvalue(), media_type="image/png", headers=headers)


async def _upload(space: Space, request: Request, mask: bool = False) -> Response:
    """server.py image_upload (v0.3.77). The folder is looked up first: a type other than
    input/temp/output (an empty one too) leaves it unbound, a 500."""
    form = await request.form()
    kind = form.get("type")
    kind = "input" if kind is None else str(kind)
    upload_dir = space.folder(kind)
    if upload_dir is None:
        return server_error(request)
    image = form.get("image")
    value: str | bytes | None = image if not isinstance(image, UploadFile) else None
    if isinstance(image, UploadFile) and not image.filename:
        # aiohttp's request.post() keeps a part whose filename is empty as a plain value
        # (web_request.py: `if field.filename:` makes a FileField, else the part's bytes)
        value = await image.read()
    if value:  # a value has no .file: AttributeError
        return server_error(request)
    if not isinstance(image, UploadFile) or not image.filename:
        return Response(status_code=400)
    base = str(upload_dir.resolve())
    subfolder = str(form.get("subfolder") or "")
    folder = Path(os.path.join(base, os.path.normpath(subfolder)))
    filename = image.filename
    filepath = os.path.abspath(os.path.join(folder, filename))
    if os.path.commonpath((base, filepath)) != base:
        return Response(status_code=400)
    folder.mkdir(parents=True, exist_ok=True)
    data = await image.read()
    duplicate = False
    if str(form.get("overwrite")) not in ("true", "1"):
        stem, ext = os.path.splitext(filename)
        i = 1
        while os.path.exists(filepath):
            existing = Path(filepath).read_bytes()
            if hashlib.sha256(existing).digest() == hashlib.sha256(data).digest():
                duplicate = True
                break
            filename = f"{stem} ({i}){ext}"
            filepath = os.path.join(folder, filename)
            i += 1
    if not duplicate:
        if not mask:
            Path(filepath).write_bytes(data)
        else:
            ref = form.get("original_ref")
            try:
                original = json.loads(ref if isinstance(ref, str) else "")
            except ValueError:  # json.loads(None) raises in the release too: a 500
                original = None
            if not isinstance(original, dict):
                return server_error(request)
            try:
                _apply_mask(space, original, data, Path(filepath))
            except (OSError, ValueError):  # e.g. putalpha of another size: aiohttp's 500
                return server_error(request)
    return Json({"name": filename, "subfolder": subfolder, "type": kind})


def _apply_mask(space: Space, original_ref: dict[str, Any], data: bytes, target: Path) -> None:
    """upload_mask's image_save_function: the original with the upload's alpha, saved
    (compress_level 4, text chunks kept). A bad reference writes nothing; the release
    still answers 200 (the function's own responses are discarded)."""
    import io

    filename, kind = _annotated(str(original_ref.get("filename", "")))
    if not filename or filename[0] == "/" or ".." in filename:
        return
    folder = space.folder(kind or str(original_ref.get("type", "output")))
    if folder is None:
        return
    subfolder = str(original_ref.get("subfolder", ""))
    if subfolder:
        full = folder / subfolder
        if os.path.commonpath((os.path.abspath(full), str(folder))) != str(folder):
            return
        folder = full
    source = folder / filename
    if not source.is_file():
        return
    with Image.open(source) as original:
        info = PngInfo()
        for key, value in getattr(original, "text", {}).items():
            info.add_text(key, value)
        rgba = original.convert("RGBA")
    with Image.open(io.BytesIO(data)) as uploaded:
        rgba.putalpha(uploaded.convert("RGBA").getchannel("A"))
    rgba.save(target, compress_level=4, pnginfo=info)


API_ROUTES: tuple[Route, ...] = (  # served at / and again under /api, in this order
    Route(WEBSOCKET, "/ws", websocket),
    Route("POST", "/prompt", post_prompt),
    Route("GET", "/prompt", get_prompt),
    Route("GET", "/queue", get_queue),
    Route("POST", "/queue", post_queue),
    Route("POST", "/interrupt", post_interrupt),
    Route("POST", "/free", post_free),
    Route("GET", "/history", get_history),
    Route("GET", "/history/{prompt_id}", get_history_item),
    Route("POST", "/history", post_history),
    Route("GET", "/view", view),
    Route("GET", "/", root),
    Route("POST", "/upload/image", upload_image),
    Route("POST", "/upload/mask", upload_mask),
    Route("GET", "/object_info", get_object_info),
    Route("GET", "/object_info/{node_class}", get_object_info_node),
    Route("GET", "/embeddings", embeddings),
    Route("GET", "/models", models),
    Route("GET", "/models/{folder}", models_in),
    Route("GET", "/extensions", extensions),
    Route("GET", "/settings", settings),
    Route("GET", "/users", users),
    Route("GET", "/userdata", list_userdata),
    Route("GET", "/features", features),
    Route("GET", "/system_stats", system_stats),
)
# aiohttp's add_get also answers HEAD (allow_head): the GET's status and headers, no body
_WITH_HEAD = (*API_ROUTES, *(r._replace(method="HEAD") for r in API_ROUTES if r.method == "GET"))
ROUTES: tuple[Route, ...] = (  # in the order of matching
    *_WITH_HEAD,
    *(route._replace(path="/api" + route.path) for route in _WITH_HEAD),
    # api_server/routes/internal/internal_routes.py, a sub-app at /internal only (no /api)
    Route("GET", INTERNAL + "/logs", internal_logs),
    Route("GET", INTERNAL + "/files/{directory_type}", internal_files),
)
