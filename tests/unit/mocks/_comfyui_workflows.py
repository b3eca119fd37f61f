"""Model-free ComfyUI workflows (one or more per node of issue 15 item 6) and their inputs.

Each workflow runs on a real Comfy-Org/ComfyUI v0.3.77 (`--cpu`, no models); the shapes and
sample pixels it gave there are recorded in test_comfyui_nodes.py."""

from __future__ import annotations

import io
import json
import struct
from functools import partial
from typing import Any

import numpy as np
from PIL import Image

Prompt = dict[str, Any]


def node(class_type: str, **inputs: Any) -> dict[str, Any]:
    return {"class_type": class_type, "inputs": inputs}


def probe_rgba() -> Image.Image:
    """A 48x32 RGBA gradient with a varying alpha, uploaded as probe_rgba.png."""
    y, x = np.mgrid[0:32, 0:48]
    arr = np.stack([x * 5, y * 7, (x + y) * 3, 255 - (x * y) % 256], -1).astype(np.uint8)
    return Image.fromarray(arr)


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def latent_file() -> bytes:
    """A safetensors latent [1,4,12,16] with latent_format_version_0, as probe.latent."""
    t = np.random.default_rng(3).standard_normal((1, 4, 12, 16)).astype(np.float32)
    header = {
        "latent_tensor": {"dtype": "F32", "shape": list(t.shape), "data_offsets": [0, t.nbytes]},
        "latent_format_version_0": {
            "dtype": "F32",
            "shape": [0],
            "data_offsets": [t.nbytes, t.nbytes],
        },
    }
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + t.tobytes()


# (filename, bytes, type) uploaded before the workflows run
UPLOADS = [
    ("probe_rgba.png", png(probe_rgba()), "input"),
    ("probe_rgb.png", png(probe_rgba().convert("RGB")), "input"),
    ("probe.latent", latent_file(), "input"),
    ("probe_out.png", png(probe_rgba().rotate(90, expand=True)), "output"),
]

LOAD = node("LoadImage", image="probe_rgba.png")
EMPTY = node("EmptyImage", width=20, height=40, batch_size=2, color=0x33AA55)


def save(src: list[Any], prefix: str = "p") -> dict[str, Any]:
    return node("SaveImage", images=src, filename_prefix=prefix)


def image_chain(step: dict[str, Any], slot: int = 0, extra: Prompt | None = None) -> Prompt:
    """LoadImage "1" and EmptyImage "e" feed `step` ("2"), saved by "9"."""
    return {"1": LOAD, "e": EMPTY, "2": step, **(extra or {}), "9": save(["2", slot])}


def mask_chain(step: dict[str, Any], slot: int = 0, extra: Prompt | None = None) -> Prompt:
    """As image_chain, the mask output through MaskToImage "8"."""
    prompt = {"1": LOAD, "e": EMPTY, "2": step, **(extra or {})}
    prompt["8"] = node("MaskToImage", mask=["2", slot])
    prompt["9"] = save(["8", 0])
    return prompt


def latent_chain(step: dict[str, Any]) -> Prompt:
    """LoadLatent "l" and EmptyLatentImage "z" feed `step`, saved by SaveLatent "9"."""
    return {
        "l": node("LoadLatent", latent="probe.latent"),
        "z": node("EmptyLatentImage", width=128, height=96, batch_size=2),
        "2": step,
        "9": node("SaveLatent", samples=["2", 0], filename_prefix="latents/p"),
    }


# nodes with their links in place; a call names the other inputs
UPSCALE_LATENT = partial(node, "LatentUpscale", samples=["l", 0])
STITCH = partial(node, "ImageStitch", image1=["1", 0], image2=["e", 0])


RED_MASK = {"k": node("LoadImageMask", image="probe_rgba.png", channel="red")}
JOINED = {
    "j": node("JoinImageWithAlpha", image=["1", 0], alpha=["k", 0]),
    "k": node("LoadImageMask", image="probe_rgba.png", channel="blue"),
}

PAD = node("ImagePadForOutpaint", image=["1", 0], left=16, top=8, right=0, bottom=24, feathering=10)
# three distinct frames (Pillow's APNG and WEBP writers merge identical ones): r = [1, ~1, 1]
FRAMES = {
    "v": node("ImageInvert", image=["1", 0]),
    "b": node("ImageBatch", image1=["1", 0], image2=["v", 0]),
    "r": node("ImageBatch", image1=["b", 0], image2=["1", 0]),
}

WORKFLOWS: dict[str, Prompt] = {
    "LoadImageMask alpha": mask_chain(
        node("LoadImageMask", image="probe_rgba.png", channel="alpha")
    ),
    "LoadImageMask green of an RGB file": mask_chain(
        node("LoadImageMask", image="probe_rgb.png", channel="green")
    ),
    "LoadImageOutput": image_chain(node("LoadImageOutput", image="probe_out.png [output]")),
    "LoadImageOutput mask": mask_chain(node("LoadImageOutput", image="probe_out.png [output]"), 1),
    "ImageBlur": image_chain(node("ImageBlur", image=["1", 0], blur_radius=3, sigma=1.5)),
    "ImageSharpen": image_chain(
        node("ImageSharpen", image=["1", 0], sharpen_radius=2, sigma=1.0, alpha=0.5)
    ),
    **{
        f"ImageBlend {mode}": image_chain(
            node("ImageBlend", image1=["1", 0], image2=["e", 0], blend_factor=0.6, blend_mode=mode)
        )
        for mode in ("normal", "multiply", "screen", "overlay", "soft_light", "difference")
    },
    "ImageBatch": image_chain(node("ImageBatch", image1=["1", 0], image2=["e", 0])),
    "ImagePadForOutpaint": image_chain(PAD),
    "ImagePadForOutpaint mask": mask_chain(PAD, 1),
    "ImageCompositeMasked with a mask": image_chain(
        node(
            "ImageCompositeMasked",
            destination=["e", 0],
            source=["1", 0],
            x=5,
            y=12,
            resize_source=False,
            mask=["m", 0],
        ),
        extra={"m": node("SolidMask", value=0.7, width=10, height=6)},
    ),
    **{
        f"ImageCompositeMasked {case}": image_chain(
            node(
                "ImageCompositeMasked",
                destination=["1", 0],
                source=["e", 0],
                x=40,
                y=3,
                resize_source=resize,
            )
        )
        for case, resize in (("resized source", True), ("past the edge", False))
    },
    **{
        f"ImageRotate {rotation}": image_chain(
            node("ImageRotate", image=["1", 0], rotation=rotation)
        )
        for rotation in ("90 degrees", "180 degrees", "270 degrees")
    },
    "ImageStitch down, matched, red spacing": image_chain(
        STITCH(direction="down", match_image_size=True, spacing_width=6, spacing_color="red")
    ),
    "ImageStitch left, padded, odd spacing": image_chain(
        STITCH(direction="left", match_image_size=False, spacing_width=3, spacing_color="white")
    ),
    **{
        f"ResizeAndPadImage {method}": image_chain(
            node(
                "ResizeAndPadImage",
                image=["1", 0],
                target_width=64,
                target_height=64,
                padding_color="black" if method == "area" else "white",
                interpolation=method,
            )
        )
        for method in ("area", "bicubic", "nearest-exact", "bilinear", "lanczos")
    },
    **{
        f"ImageQuantize {dither}": image_chain(
            node("ImageQuantize", image=["1", 0], colors=8, dither=dither)
        )
        for dither in ("none", "floyd-steinberg", "bayer-4")
    },
    "ImageAddNoise": image_chain(node("ImageAddNoise", image=["1", 0], seed=42, strength=0.3)),
    "ImageAddNoise on 6 values": image_chain(
        node("ImageAddNoise", image=["t", 0], seed=7, strength=0.5),
        extra={"t": node("EmptyImage", width=1, height=2, batch_size=1, color=0x808080)},
    ),
    **{
        f"GrowMask {expand} tapered={tapered}": mask_chain(
            node("GrowMask", mask=["t", 0], expand=expand, tapered_corners=tapered),
            extra={"t": node("ThresholdMask", mask=["k", 0], value=0.5), **RED_MASK},
        )
        for expand, tapered in ((2, True), (3, False), (-1, True))
    },
    "JoinImageWithAlpha": image_chain(
        node("JoinImageWithAlpha", image=["1", 0], alpha=["k", 0]),
        extra={"k": node("LoadImageMask", image="probe_rgba.png", channel="green")},
    ),
    "SplitImageWithAlpha": image_chain(node("SplitImageWithAlpha", image=["j", 0]), extra=JOINED),
    "SplitImageWithAlpha mask": mask_chain(
        node("SplitImageWithAlpha", image=["j", 0]), 1, extra=JOINED
    ),
    "SplitImageWithAlpha of RGB": mask_chain(node("SplitImageWithAlpha", image=["1", 0]), 1),
    "SaveAnimatedWEBP": {
        "1": LOAD,
        **FRAMES,
        "9": node(
            "SaveAnimatedWEBP",
            images=["r", 0],
            filename_prefix="anim",
            fps=4.0,
            lossless=True,
            quality=80,
            method="default",
        ),
    },
    "SaveAnimatedWEBP one frame": {
        "1": LOAD,
        "9": node(
            "SaveAnimatedWEBP",
            images=["1", 0],
            filename_prefix="anim1_%width%x%height%",
            fps=6.0,
            lossless=False,
            quality=70,
            method="fastest",
        ),
    },
    "SaveAnimatedPNG": {
        "1": LOAD,
        **FRAMES,
        "9": node(
            "SaveAnimatedPNG", images=["r", 0], filename_prefix="apng", fps=5.0, compress_level=4
        ),
    },
    "LoadLatent and SaveLatent": {
        "l": node("LoadLatent", latent="probe.latent"),
        "9": node("SaveLatent", samples=["l", 0], filename_prefix="latents/p"),
    },
    **{
        f"LatentUpscale {method}": latent_chain(
            UPSCALE_LATENT(upscale_method=method, width=200, height=0, crop="disabled")
        )
        for method in ("nearest-exact", "bilinear", "area", "bicubic")
    },
    "LatentUpscale centre crop": latent_chain(
        UPSCALE_LATENT(upscale_method="bilinear", width=64, height=64, crop="center")
    ),
    "LatentUpscaleBy": latent_chain(
        node("LatentUpscaleBy", samples=["l", 0], upscale_method="bilinear", scale_by=1.5)
    ),
    "LatentComposite": latent_chain(
        node("LatentComposite", samples_to=["z", 0], samples_from=["l", 0], x=64, y=16, feather=0)
    ),
    "LatentComposite feathered": latent_chain(
        node("LatentComposite", samples_to=["z", 0], samples_from=["l", 0], x=16, y=0, feather=16)
    ),
    "LatentBlend": latent_chain(
        node("LatentBlend", samples1=["z", 0], samples2=["l", 0], blend_factor=0.3)
    ),
    **{
        f"ImageScale {method}": image_chain(
            node(
                "ImageScale",
                image=["1", 0],
                upscale_method=method,
                width=70,
                height=50,
                crop="center",
            )
        )
        for method in ("nearest-exact", "bilinear", "area", "bicubic", "lanczos")
    },
}
