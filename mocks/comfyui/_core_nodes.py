"""The txt2img set of nodes.py and the basic model-free image, mask and primitive nodes
of Comfy-Org/ComfyUI v0.3.77, registered into NODES (`_node_types`) on import."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, ImageSequence

from . import _images, _resample
from ._node_types import (
    MAGIC_ERROR_TOKEN,
    Context,
    FileNode,
    MockExecutionError,
    Node,
    Result,
    annotated_path,
    register,
    to_images,
    to_pils,
)

# -- the txt2img set (nodes.py) ---------------------------------------------------------


class ModelHandle:
    """A loaded model stand-in; str() reads like the real object's default repr."""

    def __init__(self, cls_path: str, ckpt_name: str) -> None:
        self.cls_path = cls_path
        self.ckpt_name = ckpt_name

    def __repr__(self) -> str:
        return f"<{self.cls_path} object at 0x{id(self):x}>"


@register
class CheckpointLoaderSimple(Node):
    def compute(self, ckpt_name: str, **_: Any) -> tuple[Any, ...]:
        return (
            ModelHandle("comfy.model_patcher.ModelPatcher", ckpt_name),
            ModelHandle("comfy.sd.CLIP", ckpt_name),
            ModelHandle("comfy.sd.VAE", ckpt_name),
        )


@register
class CLIPTextEncode(Node):
    def compute(self, text: str, clip: Any, **_: Any) -> tuple[Any, ...]:
        if MAGIC_ERROR_TOKEN in text:
            raise MockExecutionError(f"mock execution error: prompt contains {MAGIC_ERROR_TOKEN}")
        return ([[text, {}]],)


@register
class EmptyLatentImage(Node):
    def compute(self, width: int, height: int, batch_size: int = 1, **_: Any) -> tuple[Any, ...]:
        return ({"samples": np.zeros((batch_size, 4, height // 8, width // 8), np.float32)},)


@register
class KSampler(Node):
    """The mock samples nothing: it reports steps and marks the latent with its seed."""

    async def run(self, ctx: Context, **inputs: Any) -> Result:
        latent = dict(inputs["latent_image"])
        _, _, h, w = latent["samples"].shape
        seed = int(inputs["seed"])
        await ctx.sample_steps(int(inputs["steps"]), seed, w * 8, h * 8)
        latent["mock_seed"] = seed
        return (latent,), None


@register
class VAEDecode(Node):
    """Seeded latents decode to the mock's deterministic tiles, others to flat grey."""

    def compute(self, samples: dict[str, Any], vae: Any, **_: Any) -> tuple[Any, ...]:
        b, _, h, w = samples["samples"].shape
        seed = samples.get("mock_seed")
        if seed is None:
            return (np.full((b, h * 8, w * 8, 3), 128 / 255, np.float32),)
        return (to_images([_images.generate(seed, i, w * 8, h * 8) for i in range(b)]),)


def load_frames(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """nodes.py LoadImage.load_image: every frame of the first frame's size, RGB, and masks
    1 - alpha (a transparent palette counts), or zeros (64, 64) without alpha."""
    images, masks = [], []
    with Image.open(path) as img:
        size = None
        for frame in ImageSequence.Iterator(img):
            frame = ImageOps.exif_transpose(frame)
            if frame.mode == "I":
                frame = frame.point(lambda v: v * (1 / 255))
            rgb = frame.convert("RGB")
            size = size or rgb.size
            if rgb.size != size:
                continue
            images.append(np.asarray(rgb, np.float32) / 255.0)
            if "A" in frame.getbands():
                masks.append(1.0 - np.asarray(frame.getchannel("A"), np.float32) / 255.0)
            elif frame.mode == "P" and "transparency" in frame.info:
                alpha = frame.convert("RGBA").getchannel("A")
                masks.append(1.0 - np.asarray(alpha, np.float32) / 255.0)
            else:
                masks.append(np.zeros((64, 64), np.float32))
        keep = len(images) if img.format != "MPO" else 1
    return np.stack(images[:keep]), np.stack(masks[:keep])


@register
class LoadImage(FileNode):
    """nodes.py LoadImage: RGB frames and their masks."""

    async def run(self, ctx: Context, **inputs: Any) -> Result:
        path = annotated_path(ctx.root, str(inputs["image"]))
        return await asyncio.to_thread(load_frames, path), None


@register
class LoadImageOutput(LoadImage):
    """nodes.py LoadImageOutput: LoadImage with a COMBO the frontend fills from the output
    folder; a name without a folder suffix is still looked up in input."""


def load_mask(path: Path, channel: str) -> np.ndarray:
    """nodes.py LoadImageMask.load_image: one channel of the RGBA image (alpha inverted)."""
    with Image.open(path) as opened:
        img = ImageOps.exif_transpose(opened)
        if img.getbands() != ("R", "G", "B", "A"):
            if img.mode == "I":
                img = img.point(lambda v: v * (1 / 255))
            img = img.convert("RGBA")
        band = channel[0].upper()
        mask = np.asarray(img.getchannel(band), np.float32) / 255.0
    return (1.0 - mask if band == "A" else mask)[None]


@register
class LoadImageMask(FileNode):
    async def run(self, ctx: Context, **inputs: Any) -> Result:
        path = annotated_path(ctx.root, str(inputs["image"]))
        return (await asyncio.to_thread(load_mask, path, str(inputs["channel"])),), None


@register
class SaveImage(Node):
    """PNGs with the `prompt` text chunk and one per extra_pnginfo key (nodes.py SaveImage)."""

    kind = "output"
    compress_level = 4

    def prefix(self, inputs: dict[str, Any]) -> str:
        return str(inputs.get("filename_prefix", "ComfyUI"))

    async def run(self, ctx: Context, **inputs: Any) -> Result:
        text = {"prompt": json.dumps(ctx.prompt)}
        for key, value in (ctx.extra_pnginfo or {}).items():
            text[key] = json.dumps(value)
        saved = await asyncio.to_thread(
            _images.save_images,
            to_pils(inputs["images"]),
            ctx.root / self.kind,
            self.prefix(inputs),
            self.kind,
            text,
            self.compress_level,
        )
        return (), {"images": saved}


@register
class PreviewImage(SaveImage):
    kind = "temp"
    compress_level = 1

    def prefix(self, inputs: dict[str, Any]) -> str:
        letters = "".join(random.choice("abcdefghijklmnopqrstupvxyz") for _ in range(5))
        return f"ComfyUI_temp_{letters}"


@register
class SaveImageWebsocket(Node):
    """custom_nodes/websocket_image_save.py: a ProgressBar over the batch, each image
    handed to `update_absolute(step, total, ("PNG", img, None))`, so each goes out as the
    hook's progress_state, `progress` and a PNG preview frame (event 1, or event 4 to a
    client that supports preview metadata)."""

    async def run(self, ctx: Context, **inputs: Any) -> Result:
        images = to_pils(inputs["images"])
        for step, image in enumerate(images):
            png = await asyncio.to_thread(_images.png_bytes, image)
            await ctx.progress(step, len(images), ("PNG", png))
        return (), None


# -- model-free image, mask and primitive nodes -----------------------------------------


@register
class EmptyImage(Node):
    """nodes.py EmptyImage: colour 0xRRGGBB."""

    def compute(
        self, width: int, height: int, batch_size: int = 1, color: int = 0, **_: Any
    ) -> tuple[Any, ...]:
        rgb = np.array([(color >> 16) & 0xFF, (color >> 8) & 0xFF, color & 0xFF], np.float32)
        return (np.broadcast_to(rgb / 255.0, (batch_size, height, width, 3)).copy(),)


@register
class ImageInvert(Node):
    def compute(self, image: np.ndarray, **_: Any) -> tuple[Any, ...]:
        return (1.0 - image,)


@register
class ImageToMask(Node):
    def compute(self, image: np.ndarray, channel: str, **_: Any) -> tuple[Any, ...]:
        return (image[..., ["red", "green", "blue", "alpha"].index(channel)].copy(),)


@register
class MaskToImage(Node):
    def compute(self, mask: np.ndarray, **_: Any) -> tuple[Any, ...]:
        m = mask.reshape((-1, mask.shape[-2], mask.shape[-1]))
        return (np.repeat(m[..., None], 3, axis=-1),)


@register
class SolidMask(Node):
    def compute(self, value: float, width: int, height: int, **_: Any) -> tuple[Any, ...]:
        return (np.full((1, height, width), value, np.float32),)


@register
class InvertMask(Node):
    def compute(self, mask: np.ndarray, **_: Any) -> tuple[Any, ...]:
        return (1.0 - mask,)


@register
class GetImageSize(Node):
    """comfy_extras/nodes_images.py GetImageSize: (width, height, batch_size), and the size
    as progress text to every client (server.py send_progress_text, no sid)."""

    async def run(self, ctx: Context, **inputs: Any) -> Result:
        b, h, w = inputs["image"].shape[:3]
        text = f"width: {w}, height: {h}\n batch size: {b}"
        await ctx.broadcast_bytes(_images.progress_text_frame(ctx.node_id, text))
        return (w, h, b), None


def _primitive(name: str) -> type[Node]:
    class Primitive(Node):
        def compute(self, value: Any, **_: Any) -> tuple[Any, ...]:
            return (value,)

    Primitive.__name__ = name
    return register(Primitive)


for _name in ("PrimitiveInt", "PrimitiveFloat", "PrimitiveString", "PrimitiveBoolean"):
    _primitive(_name)


@register
class StringConcatenate(Node):
    def compute(
        self, string_a: str, string_b: str, delimiter: str = "", **_: Any
    ) -> tuple[Any, ...]:
        return (delimiter.join([string_a, string_b]),)


@register
class ImageFlip(Node):
    """comfy_extras/nodes_images.py ImageFlip: x flips rows, y flips columns."""

    def compute(self, image: np.ndarray, flip_method: str, **_: Any) -> tuple[Any, ...]:
        return (np.flip(image, axis=1 if flip_method.startswith("x") else 2).copy(),)


@register
class ImageCrop(Node):
    """comfy_extras/nodes_images.py ImageCrop: the origin is clamped inside the image."""

    def compute(
        self, image: np.ndarray, width: int, height: int, x: int, y: int, **_: Any
    ) -> tuple[Any, ...]:
        x, y = min(x, image.shape[2] - 1), min(y, image.shape[1] - 1)
        return (image[:, y : y + height, x : x + width, :].copy(),)


@register
class RepeatImageBatch(Node):
    def compute(self, image: np.ndarray, amount: int, **_: Any) -> tuple[Any, ...]:
        return (np.tile(image, (amount, 1, 1, 1)),)


@register
class ImageFromBatch(Node):
    def compute(
        self, image: np.ndarray, batch_index: int, length: int, **_: Any
    ) -> tuple[Any, ...]:
        start = min(image.shape[0] - 1, batch_index)
        return (image[start : start + min(image.shape[0] - start, length)].copy(),)


@register
class ThresholdMask(Node):
    """comfy_extras/nodes_mask.py ThresholdMask: (mask > value) as 0/1."""

    def compute(self, mask: np.ndarray, value: float, **_: Any) -> tuple[Any, ...]:
        return ((mask > value).astype(np.float32),)


@register
class EmptySD3LatentImage(Node):
    """comfy_extras/nodes_sd3.py: 16 latent channels."""

    def compute(self, width: int, height: int, batch_size: int = 1, **_: Any) -> tuple[Any, ...]:
        return ({"samples": np.zeros((batch_size, 16, height // 8, width // 8), np.float32)},)


@register
class ImageScale(Node):
    """nodes.py ImageScale: a 0 side keeps the aspect ratio; both 0 keeps the image."""

    def compute(
        self,
        image: np.ndarray,
        upscale_method: str,
        width: int,
        height: int,
        crop: str = "disabled",
        **_: Any,
    ) -> tuple[Any, ...]:
        if width == 0 and height == 0:
            return (image,)
        h, w = image.shape[1:3]
        if width == 0:
            width = max(1, round(w * height / h))
        elif height == 0:
            height = max(1, round(h * width / w))
        return (_resample.upscale_images(image, width, height, upscale_method, crop),)


@register
class ImageScaleBy(Node):
    def compute(
        self, image: np.ndarray, upscale_method: str, scale_by: float, **_: Any
    ) -> tuple[Any, ...]:
        h, w = image.shape[1:3]
        width, height = round(w * scale_by), round(h * scale_by)
        return (_resample.upscale_images(image, width, height, upscale_method),)
