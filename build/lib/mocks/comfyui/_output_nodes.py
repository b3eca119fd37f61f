"""Output nodes without models: PreviewAny and the animated savers of Comfy-Org/ComfyUI
v0.3.77 (comfy_extras/nodes_preview_any.py, comfy_extras/nodes_images.py)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from . import _images
from ._node_types import Context, Node, Result, register, to_pils
from ._torch_repr import value_str

WEBP_METHODS = {"default": 4, "fastest": 0, "slowest": 6}
EXIF_PROMPT = 0x0110  # Model; extra_pnginfo keys count down from 0x010F (Make)


def preview_text(source: Any) -> str:
    """PreviewAny.main: strings as they are, numbers by str(), the rest as indented JSON,
    else str()."""
    if isinstance(source, str):
        return source
    if isinstance(source, int | float | bool):
        return str(source)
    if source is None:
        return "None"
    try:
        return json.dumps(source, indent=4)
    except TypeError:
        return value_str(source)


@register
class PreviewAny(Node):
    async def run(self, ctx: Context, **inputs: Any) -> Result:
        return (), {"text": [preview_text(inputs.get("source"))]}


def _save_webp(
    path: Path, frames: list[Image.Image], fps: float, exif: Image.Exif, options: dict[str, Any]
) -> None:
    frames[0].save(
        path,
        save_all=True,
        duration=int(1000.0 / fps),
        append_images=frames[1:],
        exif=exif,
        **options,
    )


def _target(ctx: Context, inputs: dict[str, Any]) -> tuple[Path, str, str, int]:
    """folder_paths.get_save_image_path for the batch's size in the output folder."""
    height, width = inputs["images"].shape[1:3]
    prefix = str(inputs.get("filename_prefix", "ComfyUI"))
    return _images.save_path(ctx.root / "output", prefix, width, height)


@register
class SaveAnimatedWEBP(Node):
    """SaveAnimatedWEBP: one animated WEBP of the whole batch; the prompt and extra_pnginfo
    in EXIF; ui `images` and `animated` (True unless a single frame)."""

    async def run(self, ctx: Context, **inputs: Any) -> Result:
        images = inputs["images"]
        folder, filename, subfolder, counter = _target(ctx, inputs)
        frames = to_pils(images)
        exif = frames[0].getexif()
        exif[EXIF_PROMPT] = f"prompt:{json.dumps(ctx.prompt)}"
        tag = EXIF_PROMPT - 1
        for key, value in (ctx.extra_pnginfo or {}).items():
            exif[tag] = f"{key}:{json.dumps(value)}"
            tag -= 1
        name = f"{filename}_{counter:05}_.webp"
        folder.mkdir(parents=True, exist_ok=True)
        options = {
            "lossless": bool(inputs["lossless"]),
            "quality": int(inputs["quality"]),
            "method": WEBP_METHODS.get(str(inputs["method"])),
        }
        fps = float(inputs["fps"])
        await asyncio.to_thread(_save_webp, folder / name, frames, fps, exif, options)
        saved = [{"filename": name, "subfolder": subfolder, "type": "output"}]
        return (), {"images": saved, "animated": [len(frames) != 1]}


def _save_apng(
    path: Path, frames: list[Image.Image], fps: float, info: PngInfo, compress_level: int
) -> None:
    frames[0].save(
        path,
        pnginfo=info,
        compress_level=compress_level,
        save_all=True,
        duration=int(1000.0 / fps),
        append_images=frames[1:],
    )


@register
class SaveAnimatedPNG(Node):
    """SaveAnimatedPNG: one APNG; the prompt and extra_pnginfo in `comf` chunks after the
    image data; ui `animated` is always True."""

    async def run(self, ctx: Context, **inputs: Any) -> Result:
        images = inputs["images"]
        folder, filename, subfolder, counter = _target(ctx, inputs)
        info = PngInfo()
        chunks = {"prompt": ctx.prompt, **(ctx.extra_pnginfo or {})}
        for key, value in chunks.items():
            data = key.encode("latin-1") + b"\0" + json.dumps(value).encode("latin-1")
            info.add(b"comf", data, after_idat=True)
        name = f"{filename}_{counter:05}_.png"
        folder.mkdir(parents=True, exist_ok=True)
        fps, level = float(inputs["fps"]), int(inputs["compress_level"])
        await asyncio.to_thread(_save_apng, folder / name, to_pils(images), fps, info, level)
        saved = [{"filename": name, "subfolder": subfolder, "type": "output"}]
        return (), {"images": saved, "animated": [True]}
