"""ComfyUI mock conformance: the model-free core nodes of issue 15 item 6.

The figures below are what a real Comfy-Org/ComfyUI v0.3.77 (tag v0.3.77, 59afc398; `--cpu`,
no models) gave for the same workflows and inputs (tests/unit/mocks/_comfyui_workflows.py):
per output file its format, size, mode, frame count and two pixels; per saved latent its
shape, first value and mean. Node sources: nodes.py, comfy_extras/nodes_images.py,
nodes_mask.py, nodes_post_processing.py, nodes_compositing.py, nodes_preview_any.py.
"""

from __future__ import annotations

import io
import json
import struct
import time
import uuid
from typing import Any

import httpx
import numpy as np
import pytest
import websocket
from PIL import Image, ImageSequence

from ._comfyui_workflows import UPLOADS, WORKFLOWS, node

REAL_OUTPUTS: dict[str, list[tuple[Any, ...]]] = {
    "LoadImageMask alpha": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (127, 127, 127)),
    ],
    "LoadImageMask green of an RGB file": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (112, 112, 112)),
    ],
    "LoadImageOutput": [
        ("PNG", (32, 48), "RGB", 1, (235, 0, 141), (115, 112, 117)),
    ],
    "LoadImageOutput mask": [
        ("PNG", (32, 48), "RGB", 1, (0, 0, 0), (111, 111, 111)),
    ],
    "ImageBlur": [
        ("PNG", (48, 32), "RGB", 1, (8, 11, 9), (120, 111, 120)),
    ],
    "ImageSharpen": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (119, 111, 119)),
    ],
    "ImageBlend normal": [
        ("PNG", (48, 32), "RGB", 1, (30, 102, 51), (78, 146, 99)),
        ("PNG", (48, 32), "RGB", 1, (30, 102, 51), (78, 146, 99)),
    ],
    "ImageBlend multiply": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (62, 89, 72)),
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (62, 89, 72)),
    ],
    "ImageBlend screen": [
        ("PNG", (48, 32), "RGB", 1, (30, 102, 51), (136, 169, 147)),
        ("PNG", (48, 32), "RGB", 1, (30, 102, 51), (136, 169, 147)),
    ],
    "ImageBlend overlay": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (76, 134, 96)),
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (76, 134, 96)),
    ],
    "ImageBlend soft_light": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (97, 123, 107)),
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (97, 123, 107)),
    ],
    "ImageBlend difference": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (89, 9, 68)),
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (89, 9, 68)),
    ],
    "ImageBatch": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (120, 112, 120)),
        ("PNG", (48, 32), "RGB", 1, (51, 170, 85), (51, 170, 85)),
        ("PNG", (48, 32), "RGB", 1, (51, 170, 85), (51, 170, 85)),
    ],
    "ImagePadForOutpaint": [
        ("PNG", (64, 64), "RGB", 1, (127, 127, 127), (80, 168, 120)),
    ],
    "ImagePadForOutpaint mask": [
        ("PNG", (64, 64), "RGB", 1, (255, 255, 255), (10, 10, 10)),
    ],
    "ImageCompositeMasked with a mask": [
        ("PNG", (20, 40), "RGB", 1, (51, 170, 85), (32, 90, 52)),
        ("PNG", (20, 40), "RGB", 1, (51, 170, 85), (32, 90, 52)),
    ],
    "ImageCompositeMasked resized source": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (120, 112, 120)),
    ],
    "ImageCompositeMasked past the edge": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (120, 112, 120)),
    ],
    "ImageRotate 90 degrees": [
        ("PNG", (32, 48), "RGB", 1, (0, 217, 93), (120, 105, 117)),
    ],
    "ImageRotate 180 degrees": [
        ("PNG", (48, 32), "RGB", 1, (235, 217, 234), (115, 105, 114)),
    ],
    "ImageRotate 270 degrees": [
        ("PNG", (32, 48), "RGB", 1, (235, 0, 141), (115, 112, 117)),
    ],
    "ImageStitch down, matched, red spacing": [
        ("PNG", (48, 134), "RGB", 1, (0, 0, 0), (51, 170, 85)),
        ("PNG", (48, 134), "RGB", 1, (0, 0, 0), (51, 170, 85)),
    ],
    "ImageStitch left, padded, odd spacing": [
        ("PNG", (72, 40), "RGB", 1, (51, 170, 85), (60, 112, 84)),
        ("PNG", (72, 40), "RGB", 1, (51, 170, 85), (60, 112, 84)),
    ],
    "ResizeAndPadImage area": [
        ("PNG", (64, 64), "RGB", 1, (0, 0, 0), (120, 112, 120)),
    ],
    "ResizeAndPadImage bicubic": [
        ("PNG", (64, 64), "RGB", 1, (255, 255, 255), (119, 110, 119)),
    ],
    "ResizeAndPadImage nearest-exact": [
        ("PNG", (64, 64), "RGB", 1, (255, 255, 255), (120, 112, 120)),
    ],
    "ResizeAndPadImage bilinear": [
        ("PNG", (64, 64), "RGB", 1, (255, 255, 255), (119, 111, 119)),
    ],
    "ResizeAndPadImage lanczos": [
        ("PNG", (64, 64), "RGB", 1, (255, 255, 255), (119, 111, 120)),
    ],
    "ImageQuantize none": [
        ("PNG", (48, 32), "RGB", 1, (55, 21, 42), (175, 74, 137)),
    ],
    "ImageQuantize floyd-steinberg": [
        ("PNG", (48, 32), "RGB", 1, (55, 21, 42), (55, 130, 89)),
    ],
    "ImageQuantize bayer-4": [
        ("PNG", (48, 32), "RGB", 1, (55, 21, 42), (55, 74, 65)),
    ],
    "ImageAddNoise": [
        ("PNG", (48, 32), "RGB", 1, (147, 113, 68), (136, 13, 255)),
    ],
    "ImageAddNoise on 6 values": [
        ("PNG", (1, 2), "RGB", 1, (109, 228, 248), (0, 255, 13)),
    ],
    "GrowMask 2 tapered=True": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (255, 255, 255)),
    ],
    "GrowMask 3 tapered=False": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (255, 255, 255)),
    ],
    "GrowMask -1 tapered=True": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (0, 0, 0)),
    ],
    "JoinImageWithAlpha": [
        ("PNG", (48, 32), "RGBA", 1, (0, 0, 0, 255), (120, 112, 120, 143)),
    ],
    "SplitImageWithAlpha": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (120, 112, 120)),
    ],
    "SplitImageWithAlpha mask": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (119, 119, 119)),
    ],
    "SplitImageWithAlpha of RGB": [
        ("PNG", (48, 32), "RGB", 1, (0, 0, 0), (0, 0, 0)),
    ],
    "SaveAnimatedWEBP": [
        ("WEBP", (48, 32), "RGB", 3, (0, 0, 0), (120, 112, 120)),
    ],
    "SaveAnimatedWEBP one frame": [
        ("WEBP", (48, 32), "RGB", 1, (0, 6, 3), (116, 110, 119)),
    ],
    "SaveAnimatedPNG": [
        ("PNG", (48, 32), "RGB", 3, (0, 0, 0), (120, 112, 120)),
    ],
    "LoadLatent and SaveLatent": [
        ("latent", (1, 4, 12, 16), 2.0409, 0.0519),
    ],
    "LatentUpscale nearest-exact": [
        ("latent", (1, 4, 18, 25), 2.0409, 0.0446),
    ],
    "LatentUpscale bilinear": [
        ("latent", (1, 4, 18, 25), 2.0409, 0.052),
    ],
    "LatentUpscale area": [
        ("latent", (1, 4, 18, 25), 2.0409, 0.0547),
    ],
    "LatentUpscale bicubic": [
        ("latent", (1, 4, 18, 25), 2.624, 0.052),
    ],
    "LatentUpscale centre crop": [
        ("latent", (1, 4, 8, 8), 0.2958, 0.0629),
    ],
    "LatentUpscaleBy": [
        ("latent", (1, 4, 18, 24), 2.0409, 0.0519),
    ],
    "LatentComposite": [
        ("latent", (2, 4, 12, 16), 0.0, 0.0088),
    ],
    "LatentComposite feathered": [
        ("latent", (2, 4, 12, 16), 0.0, 0.0398),
    ],
    "LatentBlend": [
        ("latent", (2, 4, 12, 16), 1.4286, 0.0363),
    ],
    "ImageScale nearest-exact": [
        ("PNG", (70, 50), "RGB", 1, (10, 0, 6), (120, 112, 120)),
    ],
    "ImageScale bilinear": [
        ("PNG", (70, 50), "RGB", 1, (10, 0, 6), (119, 110, 118)),
    ],
    "ImageScale area": [
        ("PNG", (70, 50), "RGB", 1, (10, 0, 6), (120, 112, 120)),
    ],
    "ImageScale bicubic": [
        ("PNG", (70, 50), "RGB", 1, (9, 0, 5), (118, 110, 118)),
    ],
    "ImageScale lanczos": [
        ("PNG", (70, 50), "RGB", 1, (10, 0, 6), (119, 111, 120)),
    ],
}

ITEM_6_NODES = [
    "EmptyImage",
    "LoadImageMask",
    "LoadImageOutput",
    "ImageScale",
    "ImageScaleBy",
    "ImageInvert",
    "ImageBlur",
    "ImageSharpen",
    "ImageBlend",
    "ImageCrop",
    "ImageBatch",
    "RepeatImageBatch",
    "ImageFromBatch",
    "ImagePadForOutpaint",
    "ImageCompositeMasked",
    "ImageFlip",
    "ImageRotate",
    "ImageStitch",
    "ResizeAndPadImage",
    "GetImageSize",
    "ImageQuantize",
    "ImageAddNoise",
    "ImageToMask",
    "MaskToImage",
    "SolidMask",
    "InvertMask",
    "GrowMask",
    "ThresholdMask",
    "JoinImageWithAlpha",
    "SplitImageWithAlpha",
    "PrimitiveInt",
    "PrimitiveFloat",
    "PrimitiveString",
    "PrimitiveBoolean",
    "StringConcatenate",
    "PreviewAny",
    "SaveAnimatedWEBP",
    "SaveAnimatedPNG",
    "LatentUpscale",
    "LatentUpscaleBy",
    "LatentComposite",
    "LatentBlend",
    "SaveLatent",
    "LoadLatent",
    "EmptySD3LatentImage",
]


@pytest.fixture
def inputs(comfyui_api: httpx.Client) -> httpx.Client:
    """The client, with the workflows' input files uploaded to its namespace."""
    for name, data, kind in UPLOADS:
        r = comfyui_api.post("/upload/image", files={"image": (name, data)}, data={"type": kind})
        assert r.status_code == 200
    return comfyui_api


def run(api: httpx.Client, prompt: dict[str, Any], **body: Any) -> dict[str, Any]:
    """POST the prompt and return its history entry once it is there."""
    r = api.post("/prompt", json={"prompt": prompt, **body})
    assert r.status_code == 200, r.text
    pid = r.json()["prompt_id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        entry = api.get(f"/history/{pid}").json().get(pid)
        if entry:
            return dict(entry)
        time.sleep(0.02)
    raise AssertionError("prompt did not finish")


def latent_of(data: bytes) -> tuple[dict[str, Any], np.ndarray]:
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    t = header["latent_tensor"]
    start, end = t["data_offsets"]
    values = np.frombuffer(data[8 + n + start : 8 + n + end], np.float32).reshape(t["shape"])
    return header, values


def summarise(api: httpx.Client, ref: dict[str, str]) -> tuple[Any, ...]:
    data = api.get("/view", params=ref).content
    if ref["filename"].endswith(".latent"):
        _, values = latent_of(data)
        first, mean = float(values.reshape(-1)[0]), float(values.mean())
        return ("latent", tuple(values.shape), round(first, 4), round(mean, 4))
    img = Image.open(io.BytesIO(data))
    frames = sum(1 for _ in ImageSequence.Iterator(img))
    img.seek(0)
    w, h = img.size
    return (
        img.format,
        (w, h),
        img.mode,
        frames,
        img.getpixel((0, 0)),
        img.getpixel((w // 2, h // 2)),
    )


def close_to(real: tuple[Any, ...], mock: tuple[Any, ...]) -> bool:
    """Same format, size, mode and frames; pixels within 1 (float rounding at .5), latent
    values within 1e-3."""
    if real[0] == "latent":
        return real[1] == mock[1] and all(
            abs(a - b) < 1e-3 for a, b in zip(real[2:], mock[2:], strict=True)
        )
    if real[:4] != mock[:4]:
        return False
    for a, b in zip(real[4:], mock[4:], strict=True):
        pa, pb = (a, b) if isinstance(a, tuple) else ((a,), (b,))
        if max(abs(x - y) for x, y in zip(pa, pb, strict=True)) > 1:
            return False
    return True


@pytest.mark.parametrize("name", list(WORKFLOWS))
def test_outputs_have_the_releases_shapes_and_pixels(inputs: httpx.Client, name: str) -> None:
    entry = run(inputs, WORKFLOWS[name])
    assert entry["status"]["status_str"] == "success"
    refs = [
        r
        for out in entry["outputs"].values()
        for k in ("images", "latents")
        for r in out.get(k, [])
    ]
    got = [summarise(inputs, ref) for ref in refs]
    assert len(got) == len(REAL_OUTPUTS[name])
    assert all(close_to(real, mock) for real, mock in zip(REAL_OUTPUTS[name], got, strict=True)), (
        got
    )


def test_every_item_6_node_has_the_releases_object_info(inputs: httpx.Client) -> None:
    """server.py node_info (v0.3.77): comfy_api v3 nodes (ImageBlend...) carry COMBO inputs
    with `options` and the v3 keys; LoadImageOutput's list comes from a remote route."""
    info = inputs.get("/object_info").json()
    assert [n for n in ITEM_6_NODES if n not in info] == []
    assert info["ImageBlend"]["input"]["required"]["blend_mode"] == [
        "COMBO",
        {
            "multiselect": False,
            "options": ["normal", "multiply", "screen", "overlay", "soft_light", "difference"],
        },
    ]
    assert {"api_node", "deprecated", "experimental"} <= set(info["ImageBlend"])
    assert "api_node" not in info["ImageStitch"]
    image = info["LoadImageOutput"]["input"]["required"]["image"]
    assert image[0] == "COMBO" and image[1]["remote"]["route"] == "/internal/files/output"
    assert info["LoadImageOutput"]["experimental"] is True
    assert info["PreviewAny"]["input"]["required"]["source"] == ["*", {}]
    assert info["SaveAnimatedWEBP"]["input"]["required"]["method"] == [
        ["default", "fastest", "slowest"]
    ]
    assert info["SaveLatent"]["input"]["hidden"] == {
        "prompt": "PROMPT",
        "extra_pnginfo": "EXTRA_PNGINFO",
    }


def test_file_combos_list_the_input_folder(inputs: httpx.Client) -> None:
    """nodes.py INPUT_TYPES: LoadImage lists image files, LoadImageMask every file,
    LoadLatent `.latent` files (top level of input, sorted)."""
    info = inputs.get("/object_info").json()
    images = ["example.png", "probe_rgb.png", "probe_rgba.png"]
    assert info["LoadImage"]["input"]["required"]["image"][0] == images
    assert info["LoadImageMask"]["input"]["required"]["image"][0] == sorted(
        [*images, "probe.latent"]
    )
    assert info["LoadLatent"]["input"]["required"]["latent"][0] == ["probe.latent"]


@pytest.mark.parametrize(
    ("prompt", "node_id", "details"),
    [
        (
            {
                "2": node("LoadImageMask", image="nope.png", channel="red"),
                "8": node("MaskToImage", mask=["2", 0]),
                "9": node("PreviewImage", images=["8", 0]),
            },
            "2",
            "image - Invalid image file: nope.png",
        ),
        (
            {
                "l": node("LoadLatent", latent="nope.latent"),
                "9": node("SaveLatent", samples=["l", 0], filename_prefix="x"),
            },
            "l",
            "latent - Invalid latent file: nope.latent",
        ),
    ],
    ids=["LoadImageMask", "LoadLatent"],
)
def test_a_missing_file_fails_custom_validation(
    inputs: httpx.Client, prompt: dict[str, Any], node_id: str, details: str
) -> None:
    """VALIDATE_INPUTS of nodes.py LoadImageMask/LoadLatent, as v0.3.77 answered."""
    r = inputs.post("/prompt", json={"prompt": prompt})
    assert r.status_code == 400
    errors = r.json()["node_errors"][node_id]["errors"]
    input_name = details.split(" ")[0]
    assert errors == [
        {
            "type": "custom_validation_failed",
            "message": "Custom validation failed for node",
            "details": details,
            "extra_info": {"input_name": input_name},
        }
    ]


def test_a_v3_combo_is_not_list_checked(inputs: httpx.Client) -> None:
    """A comfy_api v3 COMBO ("COMBO", {"options": ...}) is not a list to validate_inputs:
    a bad blend_mode is accepted and fails in Blend.blend_mode at run time (v0.3.77)."""
    prompt = {
        "1": node("EmptyImage", width=4, height=4, batch_size=1, color=0),
        "2": node("ImageBlend", image1=["1", 0], image2=["1", 0], blend_factor=0.5, blend_mode="x"),
        "9": node("PreviewImage", images=["2", 0]),
    }
    entry = run(inputs, prompt)
    error = entry["status"]["messages"][-1][1]
    assert (error["exception_type"], error["exception_message"]) == (
        "ValueError",
        "Unsupported blend mode: x\n",
    )


# The real server's texts for these sources (nodes_preview_any.py PreviewAny.main: str,
# str(number), json.dumps, else str(), which for tensors is torch's own layout).
PREVIEW_TEXTS = {
    "pa": "hello",
    "pb": "7",
    "pc": "0.25",
    "pd": "True",
    "pm": "tensor([[[0.5000, 0.5000],\n         [0.5000, 0.5000]]])",
    "pz": "{'samples': tensor([[[[0., 0.],\n          [0., 0.]],\n\n         [[0., 0.],\n"
    "          [0., 0.]],\n\n         [[0., 0.],\n          [0., 0.]],\n\n         [[0., 0.],\n"
    "          [0., 0.]]]])}",
}


def test_preview_any_text_is_the_releases(inputs: httpx.Client) -> None:
    prompt = {
        "a": node("PrimitiveString", value="hello"),
        "b": node("PrimitiveInt", value=7),
        "c": node("PrimitiveFloat", value=0.25),
        "d": node("PrimitiveBoolean", value=True),
        "m": node("SolidMask", value=0.5, width=2, height=2),
        "z": node("EmptyLatentImage", width=16, height=16, batch_size=1),
        **{f"p{k}": node("PreviewAny", source=[k, 0]) for k in "abcdmz"},
    }
    outputs = run(inputs, prompt)["outputs"]
    assert {k: v["text"] for k, v in outputs.items()} == {k: [t] for k, t in PREVIEW_TEXTS.items()}


def test_get_image_size_broadcasts_its_text(
    comfyui_base: str, inputs: httpx.Client, namespace: str
) -> None:
    """comfy_extras/nodes_images.py GetImageSize calls server.send_progress_text without a
    sid: event 3 (TEXT), node id length and id, the text, to every client (v0.3.77)."""
    addr = comfyui_base.removeprefix("http://")
    sockets = []
    for _ in range(2):
        ws = websocket.WebSocket()
        ws.connect(
            f"ws://{addr}/ws?clientId={uuid.uuid4().hex}",
            header=[f"X-Harness-Namespace: {namespace}"],
            timeout=10,
        )
        ws.recv()
        sockets.append(ws)
    prompt = {
        "1": node("EmptyImage", width=30, height=20, batch_size=2, color=0),
        "g": node("GetImageSize", image=["1", 0]),
        "p": node("PreviewAny", source=["g", 0]),
    }
    run(inputs, prompt)
    expected = b"\x00\x00\x00\x03\x00\x00\x00\x01gwidth: 30, height: 20\n batch size: 2"
    for ws in sockets:
        frame = ws.recv()
        while isinstance(frame, str):
            frame = ws.recv()
        ws.close()
        assert frame == expected


HALF_GREY_2X2 = (
    "tensor([[[[0.5000, 0.5000, 0.5000],\n          [0.5000, 0.5000, 0.5000]],\n\n"
    "         [[0.5000, 0.5000, 0.5000],\n          [0.5000, 0.5000, 0.5000]]]])"
)


def test_execution_error_reports_inputs_as_the_release(inputs: httpx.Client) -> None:
    """execution.py execute (v0.3.77): current_inputs are get_input_data's values through
    format_value (tensors as str()), current_outputs every node id of the prompt."""
    prompt = {
        "m": node("SolidMask", value=0.5, width=2, height=2),
        "i": node("MaskToImage", mask=["m", 0]),
        "2": node("ImageBlend", image1=["i", 0], image2=["i", 0], blend_factor=0.5, blend_mode="x"),
        "9": node("PreviewImage", images=["2", 0]),
    }
    error = run(inputs, prompt)["status"]["messages"][-1][1]
    assert error["current_inputs"] == {
        "image1": [HALF_GREY_2X2],
        "image2": [HALF_GREY_2X2],
        "blend_factor": [0.5],
        "blend_mode": ["x"],
    }
    assert sorted(error["current_outputs"]) == ["2", "9", "i", "m"]


def test_saving_outside_the_output_folder_is_the_releases_error(inputs: httpx.Client) -> None:
    """folder_paths.get_save_image_path raises a bare Exception; SaveImage's hidden
    prompt and extra_pnginfo appear in current_inputs (v0.3.77)."""
    prompt = {
        "m": node("SolidMask", value=0.5, width=2, height=2),
        "i": node("MaskToImage", mask=["m", 0]),
        "s": node("SaveImage", images=["i", 0], filename_prefix="../x"),
    }
    error = run(inputs, prompt)["status"]["messages"][-1][1]
    assert error["exception_type"] == "Exception"
    message = error["exception_message"]
    assert message.startswith("**** ERROR: Saving image outside the output folder is not allowed.")
    assert "\n         commonpath: " in message and message.endswith("\n")
    assert error["current_inputs"]["filename_prefix"] == ["../x"]
    assert error["current_inputs"]["prompt"] == [str(prompt)]
    assert error["current_inputs"]["extra_pnginfo"] == [None]


def test_saved_latent_is_a_safetensors_file_with_the_prompt(inputs: httpx.Client) -> None:
    """nodes.py SaveLatent: latents/<prefix>_<counter>_.latent, latent_tensor plus an empty
    latent_format_version_0, the prompt and extra_pnginfo as metadata, ui `latents`."""
    prompt = {
        "z": node("EmptySD3LatentImage", width=64, height=48, batch_size=3),
        "9": node("SaveLatent", samples=["z", 0], filename_prefix="latents/sd3"),
    }
    body = {"extra_data": {"extra_pnginfo": {"workflow": {"v": 1}}}}
    ui = run(inputs, prompt, **body)["outputs"]["9"]
    assert ui == {
        "latents": [{"filename": "sd3_00001_.latent", "subfolder": "latents", "type": "output"}]
    }
    header, values = latent_of(inputs.get("/view", params=ui["latents"][0]).content)
    assert values.shape == (3, 16, 6, 8)
    assert header["latent_format_version_0"]["shape"] == [0]
    assert json.loads(header["__metadata__"]["prompt"]) == prompt
    assert json.loads(header["__metadata__"]["workflow"]) == {"v": 1}


def test_animated_webp_carries_the_prompt_in_exif(inputs: httpx.Client) -> None:
    """comfy_extras/nodes_images.py SaveAnimatedWEBP: EXIF 0x0110 "prompt:<json>", then one
    tag per extra_pnginfo key counting down from 0x010F."""
    prompt = WORKFLOWS["SaveAnimatedWEBP"]
    entry = run(inputs, prompt, extra_data={"extra_pnginfo": {"workflow": {"v": 2}}})
    ui = entry["outputs"]["9"]
    assert ui["animated"] == [True]
    img = Image.open(io.BytesIO(inputs.get("/view", params=ui["images"][0]).content))
    exif = img.getexif()
    assert json.loads(exif[0x0110].removeprefix("prompt:")) == prompt
    assert exif[0x010F] == 'workflow:{"v": 2}'


def test_an_animated_png_loads_back_as_a_batch(inputs: httpx.Client) -> None:
    """nodes.py LoadImage (LoadImageOutput's load_image): every frame of the file's first
    frame's size, one image each; " [output]" picks the output folder."""
    saved = run(inputs, WORKFLOWS["SaveAnimatedPNG"])["outputs"]["9"]["images"][0]
    prompt = {
        "2": node("LoadImageOutput", image=f"{saved['filename']} [output]"),
        "9": node("SaveImage", images=["2", 0], filename_prefix="back"),
    }
    images = run(inputs, prompt)["outputs"]["9"]["images"]
    assert len(images) == 3  # the three frames, as v0.3.77 loaded them
