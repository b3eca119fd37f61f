"""Latent nodes of Comfy-Org/ComfyUI v0.3.77 nodes.py on {"samples": [B,C,H/8,W/8]} dicts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import _images, _resample, _safetensors
from ._node_types import Context, FileNode, Node, Result, annotated_path, register

SD1_SCALE = 0.18215  # nodes.py LoadLatent: files without latent_format_version_0
Latent = dict[str, Any]  # {"samples": ndarray, ...}


def _with_samples(latent: Latent, samples: np.ndarray) -> tuple[Latent]:
    """The node's one output: a copy of `latent` (nodes.py `.copy()`) holding `samples`."""
    return ({**latent, "samples": samples},)


@register
class LatentUpscale(Node):
    """nodes.py LatentUpscale: sides below 64 are raised to 64; a 0 side keeps the aspect."""

    def compute(
        self, samples: Latent, upscale_method: str, width: int, height: int, crop: str, **_: Any
    ) -> tuple[Any, ...]:
        if width == 0 and height == 0:
            return (samples,)
        h, w = samples["samples"].shape[-2:]
        if width == 0:
            height = max(64, height)
            width = max(64, round(w * height / h))
        elif height == 0:
            width = max(64, width)
            height = max(64, round(h * width / w))
        else:
            width, height = max(64, width), max(64, height)
        scaled = _resample.common_upscale(
            samples["samples"], width // 8, height // 8, upscale_method, crop
        )
        return _with_samples(samples, scaled)


@register
class LatentUpscaleBy(Node):
    def compute(
        self, samples: Latent, upscale_method: str, scale_by: float, **_: Any
    ) -> tuple[Any, ...]:
        h, w = samples["samples"].shape[-2:]
        scaled = _resample.common_upscale(
            samples["samples"], round(w * scale_by), round(h * scale_by), upscale_method, "disabled"
        )
        return _with_samples(samples, scaled)


def _feather_mask(
    shape: tuple[int, ...], feather: int, x: int, y: int, to_hw: tuple[int, int]
) -> np.ndarray:
    mask = np.ones(shape, np.float32)
    h, w = shape[-2:]
    for t in range(feather):
        factor = (1.0 / feather) * (t + 1)
        if y != 0:
            mask[:, :, t : t + 1, :] *= factor
        if y + h < to_hw[0]:
            mask[:, :, h - 1 - t : h - t, :] *= factor
        if x != 0:
            mask[:, :, :, t : t + 1] *= factor
        if x + w < to_hw[1]:
            mask[:, :, :, w - 1 - t : w - t] *= factor
    return mask


@register
class LatentComposite(Node):
    """nodes.py LatentComposite: samples_from pasted at (x/8, y/8), feathered at inner edges."""

    def compute(
        self, samples_to: Latent, samples_from: Latent, x: int, y: int, feather: int = 0, **_: Any
    ) -> tuple[Any, ...]:
        x, y, feather = x // 8, y // 8, feather // 8
        target = samples_to["samples"].copy()
        to_h, to_w = target.shape[-2:]
        source = samples_from["samples"][:, :, : to_h - y, : to_w - x]
        region = (
            slice(None),
            slice(None),
            slice(y, y + source.shape[2]),
            slice(x, x + source.shape[3]),
        )
        if feather == 0:
            target[region] = source
        else:
            mask = _feather_mask(source.shape, feather, x, y, (to_h, to_w))
            target[region] = source * mask + target[region] * (1 - mask)
        return _with_samples(samples_to, target)


@register
class LatentBlend(Node):
    """nodes.py LatentBlend: samples1 * f + samples2 * (1 - f), samples2 fitted (bicubic)."""

    def compute(
        self, samples1: Latent, samples2: Latent, blend_factor: float, **_: Any
    ) -> tuple[Any, ...]:
        a, b = samples1["samples"], samples2["samples"]
        if a.shape != b.shape:
            b = _resample.common_upscale(b, a.shape[3], a.shape[2], "bicubic", "center")
        blended = (a * blend_factor + b * (1 - blend_factor)).astype(np.float32)
        return _with_samples(samples1, blended)


def _save_latent(folder: Path, name: str, samples: np.ndarray, metadata: dict[str, str]) -> None:
    tensors = {"latent_tensor": samples, "latent_format_version_0": np.zeros((0,), np.float32)}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(_safetensors.dump(tensors, metadata))


@register
class SaveLatent(Node):
    """nodes.py SaveLatent: <prefix>_<counter>_.latent (safetensors) with the prompt and
    extra_pnginfo as metadata; ui `latents`."""

    async def run(self, ctx: Context, **inputs: Any) -> Result:
        prefix = str(inputs.get("filename_prefix", "ComfyUI"))
        folder, filename, subfolder, counter = _images.save_path(ctx.root / "output", prefix, 0, 0)
        metadata = {"prompt": json.dumps(ctx.prompt)}
        for key, value in (ctx.extra_pnginfo or {}).items():
            metadata[key] = json.dumps(value)
        name = f"{filename}_{counter:05}_.latent"
        await asyncio.to_thread(_save_latent, folder, name, inputs["samples"]["samples"], metadata)
        return (), {"latents": [{"filename": name, "subfolder": subfolder, "type": "output"}]}


@register
class LoadLatent(FileNode):
    """nodes.py LoadLatent: latent_tensor, scaled by 1/0.18215 for the old format."""

    file_input: ClassVar[str] = "latent"
    validated_inputs: ClassVar[tuple[str, ...]] = ("latent",)
    invalid_message: ClassVar[str] = "Invalid latent file: {}"

    async def run(self, ctx: Context, **inputs: Any) -> Result:
        path = annotated_path(ctx.root, str(inputs["latent"]))
        tensors = await asyncio.to_thread(_safetensors.load, path)
        multiplier = 1.0 if "latent_format_version_0" in tensors else 1.0 / SD1_SCALE
        return ({"samples": tensors["latent_tensor"] * np.float32(multiplier)},), None
