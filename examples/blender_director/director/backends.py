"""Blocking backend calls, run on worker threads (never touch bpy here).

HTTP with the standard library, ComfyUI's socket with websocket-client and Wan2GP with
gradio_client: the clients a Blender add-on can ship (pure Python, no compiled parts).
"""

import json
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid

HEALTH = {
    "comfyui": "/system_stats",  # ComfyUI server.py
    "litellm": "/health/liveliness",  # LiteLLM proxy
    "wan2gp": "/config",  # every Gradio app
}


class BackendError(Exception):
    """A backend call failed; the message is one line for the panel."""


def _request(url, data=None, headers=None, timeout=10.0):
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=dict(headers or {}))
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise BackendError(f"{url}: HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise BackendError(f"{url}: {reason}") from None


def health(service, url, key="", timeout=10.0):
    headers = {"Authorization": f"Bearer {key}"} if key and service == "litellm" else {}
    _request(url.rstrip("/") + HEALTH[service], headers=headers, timeout=timeout)


GRAPH = {
    "3": {"class_type": "KSampler", "inputs": {
        "cfg": 7, "denoise": 1, "latent_image": ["5", 0], "model": ["4", 0],
        "negative": ["7", 0], "positive": ["6", 0], "sampler_name": "euler",
        "scheduler": "normal", "seed": 0, "steps": 4}},
    "4": {"class_type": "CheckpointLoaderSimple",
          "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
    "5": {"class_type": "EmptyLatentImage",
          "inputs": {"batch_size": 1, "height": 64, "width": 64}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["4", 1], "text": ""}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["4", 1], "text": "blurry"}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage",
          "inputs": {"filename_prefix": "director", "images": ["8", 0]}},
}  # fmt: skip


def comfyui_image(url, prompt, timeout=10.0):
    """ComfyUI's websocket flow; the path of the first saved image (a PNG file)."""
    import websocket  # websocket-client

    base = url.rstrip("/")
    client_id = uuid.uuid4().hex
    graph = json.loads(json.dumps(GRAPH))
    graph["6"]["inputs"]["text"] = prompt
    try:
        ws = websocket.create_connection(
            base.replace("http", "ws", 1) + f"/ws?clientId={client_id}", timeout=timeout
        )
    except (OSError, websocket.WebSocketException) as error:
        raise BackendError(f"ComfyUI websocket: {error}") from None
    try:
        answer = json.loads(_request(f"{base}/prompt", {"prompt": graph, "client_id": client_id},
                                     timeout=timeout))  # fmt: skip
        prompt_id = answer["prompt_id"]
        while True:
            frame = ws.recv()
            if not isinstance(frame, str):
                continue  # binary previews
            message = json.loads(frame)
            data = message.get("data") or {}
            if data.get("prompt_id") != prompt_id:
                continue
            if message["type"] == "execution_error":
                raise BackendError(f"ComfyUI: {data.get('exception_message', 'error')}")
            if message["type"] == "executing" and data.get("node") is None:
                break
    except (OSError, websocket.WebSocketException) as error:
        raise BackendError(f"ComfyUI websocket: {error}") from None
    finally:
        ws.close()
    history = json.loads(_request(f"{base}/history/{prompt_id}", timeout=timeout))[prompt_id]
    for output in history["outputs"].values():
        for image in output.get("images", []):
            query = urllib.parse.urlencode({k: image[k] for k in ("filename", "subfolder", "type")})
            data = _request(f"{base}/view?{query}", timeout=timeout)
            with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as file:
                file.write(data)
                return file.name
    raise BackendError("ComfyUI finished without an image")


def litellm_chat(url, key, model, prompt, timeout=10.0):
    """One chat completion through the LiteLLM proxy: the script's text."""
    body = {"model": model, "messages": [
        {"role": "system", "content": "You write short screenplay scenes."},
        {"role": "user", "content": prompt}]}  # fmt: skip
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    answer = json.loads(_request(url.rstrip("/") + "/v1/chat/completions", body, headers, timeout))
    return answer["choices"][0]["message"]["content"]


# Wan2GP's Generate button (wgp.py, deepbeepmeep/Wan2GP 8681e9f7): these three, then
# prepare_generate_media -> activate_status -> process_tasks -> finalize_generation.
WAN2GP_VALIDATE = "/validate_wizard_prompt_16"
WAN2GP_SAVE_INPUTS = "/save_inputs_16"
WAN2GP_ADD_AND_GENERATE = "/process_prompt_and_add_tasks_1"


def _endpoint_args(client, api_name, **values):
    """Positional arguments for `api_name`: each form field's default unless given by name."""
    endpoint = client.view_api(return_format="dict", print_info=False)["named_endpoints"][api_name]
    return [values.get(p["parameter_name"], p["parameter_default"]) for p in endpoint["parameters"]]


def wan2gp_clip(url, prompt, timeout=10.0):
    """Wan2GP's Generate chain through gradio_client, in one fresh Gradio session (so its queue
    holds only this clip); the downloaded MP4's path.

    The form endpoints take every form field, so their arguments are the form's defaults from
    `view_api`, overridden by name. Wan2GP's default form has the prompt wizard on, so the
    prompt goes into `wizard_prompt` too; `model_choice` stays the server's current model.
    """
    from gradio_client import Client

    download = tempfile.mkdtemp(prefix="director-clip-")
    try:
        client = Client(url.rstrip("/") + "/", verbose=False, download_files=download,
                        httpx_kwargs={"timeout": timeout})  # fmt: skip
    except Exception as error:
        raise BackendError(f"Wan2GP: {error}") from None
    form = {"prompt": prompt, "resolution": "832x480", "video_length": 9, "seed": 0,
            "num_inference_steps": 4}  # fmt: skip
    try:
        wizard = _endpoint_args(client, WAN2GP_VALIDATE, wizard_prompt=prompt, **form)
        client.predict(*wizard, api_name=WAN2GP_VALIDATE)
        client.predict(*_endpoint_args(client, WAN2GP_SAVE_INPUTS, target="state", **form),
                       api_name=WAN2GP_SAVE_INPUTS)  # fmt: skip
        queued = _endpoint_args(client, WAN2GP_ADD_AND_GENERATE, current_gallery_tab=0)
        client.predict(*queued, api_name=WAN2GP_ADD_AND_GENERATE)
        client.predict(api_name="/prepare_generate_media")
        client.predict(api_name="/activate_status")
        client.submit(api_name="/process_tasks").result(timeout=timeout * 6)
        finalized = client.predict(api_name="/finalize_generation")
    except Exception as error:  # gradio_client's AppError, timeouts, a dropped connection
        raise BackendError(f"Wan2GP: {type(error).__name__}: {error}") from None
    finally:
        client.close()
    gallery = finalized[1]["value"] if isinstance(finalized[1], dict) else finalized[1]
    videos = [
        item["video"] for item in gallery or [] if isinstance(item, dict) and item.get("video")
    ]
    if not videos:
        raise BackendError("Wan2GP finished without a video")
    return videos[-1]
