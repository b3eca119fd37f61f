"""Node implementations, one small class per class_type, registered in NODES.

Values are shaped as ComfyUI's tensors (numpy here): IMAGE float32 [B,H,W,C] in 0..1,
MASK float32 [B,H,W], LATENT {"samples": [B,4,H/8,W/8]}. Each class names the file of
Comfy-Org/ComfyUI v0.3.77 it follows; input specs come from object_info.json.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from PIL import Image

from . import _images

Ui = dict[str, Any]
Result = tuple[tuple[Any, ...], Ui | None]
MAGIC_ERROR_TOKEN = "__MOCK_EXECUTION_ERROR__"


class MockExecutionError(RuntimeError):
    """Raised by a node when the mock is told to fail."""


class Context(Protocol):
    """What a running node sees of its prompt's execution."""

    node_id: str
    prompt_id: str
    client_id: str | None
    root: Path
    prompt: dict[str, Any]
    extra_pnginfo: dict[str, Any] | None

    async def sample_steps(self, steps: int, seed: int, width: int, height: int) -> None:
        """Report `steps` sampler steps (progress, previews, interrupt checks)."""

    async def send_bytes(self, data: bytes) -> None:
        """A binary frame to the prompt's client."""


class Node:
    """One node class: `run` gets the resolved inputs and returns (outputs, ui)."""

    class_type: ClassVar[str]

    async def run(self, ctx: Context, **inputs: Any) -> Result:
        return self.compute(**inputs), None

    def compute(self, *args: Any, **inputs: Any) -> tuple[Any, ...]:
        """The outputs of a node without side effects (subclasses name their inputs)."""
        raise NotImplementedError

    @staticmethod
    def is_changed(root: Path, inputs: dict[str, Any]) -> Any:
        """IS_CHANGED: part of the cache key; None for pure nodes."""
        return None


NODES: dict[str, type[Node]] = {}


def register(cls: type[Node]) -> type[Node]:
    """Add a node class under its class_type."""
    NODES[cls.class_type] = cls
    return cls


def to_images(pils: list[Image.Image]) -> np.ndarray:
    """PIL images (same size) to an IMAGE batch."""
    return np.stack([np.asarray(p.convert("RGB"), dtype=np.float32) / 255.0 for p in pils])


def to_pils(images: np.ndarray) -> list[Image.Image]:
    """An IMAGE batch to PIL images (ComfyUI's clip(255 * i, 0, 255))."""
    arr = np.clip(images * 255.0, 0, 255).astype(np.uint8)
    return [Image.fromarray(a[..., :3] if a.shape[-1] != 4 else a) for a in arr]


# -- the txt2img set (nodes.py) ---------------------------------------------------------


@register
class CheckpointLoaderSimple(Node):
    class_type = "CheckpointLoaderSimple"

    def compute(self, ckpt_name: str, **_: Any) -> tuple[Any, ...]:
        return f"MODEL:{ckpt_name}", f"CLIP:{ckpt_name}", f"VAE:{ckpt_name}"


@register
class CLIPTextEncode(Node):
    class_type = "CLIPTextEncode"

    def compute(self, text: str, clip: Any, **_: Any) -> tuple[Any, ...]:
        if MAGIC_ERROR_TOKEN in text:
            raise MockExecutionError(f"mock execution error: prompt contains {MAGIC_ERROR_TOKEN}")
        return ([[text, {}]],)


@register
class EmptyLatentImage(Node):
    class_type = "EmptyLatentImage"

    def compute(self, width: int, height: int, batch_size: int = 1, **_: Any) -> tuple[Any, ...]:
        return ({"samples": np.zeros((batch_size, 4, height // 8, width // 8), np.float32)},)


@register
class KSampler(Node):
    """The mock samples nothing: it reports steps and marks the latent with its seed."""

    class_type = "KSampler"

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

    class_type = "VAEDecode"

    def compute(self, samples: dict[str, Any], vae: Any, **_: Any) -> tuple[Any, ...]:
        b, _, h, w = samples["samples"].shape
        seed = samples.get("mock_seed")
        if seed is None:
            return (np.full((b, h * 8, w * 8, 3), 128 / 255, np.float32),)
        return (to_images([_images.generate(seed, i, w * 8, h * 8) for i in range(b)]),)


@register
class LoadImage(Node):
    """RGB image; mask 1 - alpha, or zeros (64, 64) without alpha."""

    class_type = "LoadImage"
    folder = "input"

    async def run(self, ctx: Context, **inputs: Any) -> Result:
        with Image.open(ctx.root / self.folder / str(inputs["image"])) as img:
            rgb = to_images([img])
            if "A" in img.getbands():
                mask = 1.0 - np.asarray(img.getchannel("A"), np.float32)[None] / 255.0
            else:
                mask = np.zeros((1, 64, 64), np.float32)
        return (rgb, mask), None

    @staticmethod
    def is_changed(root: Path, inputs: dict[str, Any]) -> Any:
        path = root / "input" / str(inputs.get("image"))
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


@register
class SaveImage(Node):
    """PNGs with the `prompt` text chunk and one per extra_pnginfo key (nodes.py SaveImage)."""

    class_type = "SaveImage"
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
    class_type = "PreviewImage"
    kind = "temp"
    compress_level = 1

    def prefix(self, inputs: dict[str, Any]) -> str:
        letters = "".join(random.choice("abcdefghijklmnopqrstupvxyz") for _ in range(5))
        return f"ComfyUI_temp_{letters}"


@register
class SaveImageWebsocket(Node):
    """custom_nodes/websocket_image_save.py: each image as a binary PNG frame."""

    class_type = "SaveImageWebsocket"

    async def run(self, ctx: Context, **inputs: Any) -> Result:
        for image in to_pils(inputs["images"]):
            await ctx.send_bytes(await asyncio.to_thread(_images.preview_frame, image))
        return (), None


# -- model-free image, mask and primitive nodes -----------------------------------------


@register
class EmptyImage(Node):
    """nodes.py EmptyImage: colour 0xRRGGBB."""

    class_type = "EmptyImage"

    def compute(
        self, width: int, height: int, batch_size: int = 1, color: int = 0, **_: Any
    ) -> tuple[Any, ...]:
        rgb = np.array([(color >> 16) & 0xFF, (color >> 8) & 0xFF, color & 0xFF], np.float32)
        return (np.broadcast_to(rgb / 255.0, (batch_size, height, width, 3)).copy(),)


@register
class ImageInvert(Node):
    class_type = "ImageInvert"

    def compute(self, image: np.ndarray, **_: Any) -> tuple[Any, ...]:
        return (1.0 - image,)


@register
class ImageToMask(Node):
    class_type = "ImageToMask"

    def compute(self, image: np.ndarray, channel: str, **_: Any) -> tuple[Any, ...]:
        return (image[..., ["red", "green", "blue", "alpha"].index(channel)].copy(),)


@register
class MaskToImage(Node):
    class_type = "MaskToImage"

    def compute(self, mask: np.ndarray, **_: Any) -> tuple[Any, ...]:
        m = mask.reshape((-1, mask.shape[-2], mask.shape[-1]))
        return (np.repeat(m[..., None], 3, axis=-1),)


@register
class SolidMask(Node):
    class_type = "SolidMask"

    def compute(self, value: float, width: int, height: int, **_: Any) -> tuple[Any, ...]:
        return (np.full((1, height, width), value, np.float32),)


@register
class InvertMask(Node):
    class_type = "InvertMask"

    def compute(self, mask: np.ndarray, **_: Any) -> tuple[Any, ...]:
        return (1.0 - mask,)


@register
class GetImageSize(Node):
    """comfy_extras/nodes_images.py GetImageSize: (width, height, batch_size)."""

    class_type = "GetImageSize"

    def compute(self, image: np.ndarray, **_: Any) -> tuple[Any, ...]:
        b, h, w = image.shape[:3]
        return w, h, b


def _primitive(name: str) -> type[Node]:
    class Primitive(Node):
        class_type = name

        def compute(self, value: Any, **_: Any) -> tuple[Any, ...]:
            return (value,)

    Primitive.__name__ = name
    return register(Primitive)


for _name in ("PrimitiveInt", "PrimitiveFloat", "PrimitiveString", "PrimitiveBoolean"):
    _primitive(_name)


@register
class StringConcatenate(Node):
    class_type = "StringConcatenate"

    def compute(
        self, string_a: str, string_b: str, delimiter: str = "", **_: Any
    ) -> tuple[Any, ...]:
        return (delimiter.join([string_a, string_b]),)


@register
class ImageFlip(Node):
    """comfy_extras/nodes_images.py ImageFlip: x flips rows, y flips columns."""

    class_type = "ImageFlip"

    def compute(self, image: np.ndarray, flip_method: str, **_: Any) -> tuple[Any, ...]:
        return (np.flip(image, axis=1 if flip_method.startswith("x") else 2).copy(),)


@register
class ImageCrop(Node):
    """comfy_extras/nodes_images.py ImageCrop: the origin is clamped inside the image."""

    class_type = "ImageCrop"

    def compute(
        self, image: np.ndarray, width: int, height: int, x: int, y: int, **_: Any
    ) -> tuple[Any, ...]:
        x, y = min(x, image.shape[2] - 1), min(y, image.shape[1] - 1)
        return (image[:, y : y + height, x : x + width, :].copy(),)


@register
class RepeatImageBatch(Node):
    class_type = "RepeatImageBatch"

    def compute(self, image: np.ndarray, amount: int, **_: Any) -> tuple[Any, ...]:
        return (np.tile(image, (amount, 1, 1, 1)),)


@register
class ImageFromBatch(Node):
    class_type = "ImageFromBatch"

    def compute(
        self, image: np.ndarray, batch_index: int, length: int, **_: Any
    ) -> tuple[Any, ...]:
        start = min(image.shape[0] - 1, batch_index)
        return (image[start : start + min(image.shape[0] - start, length)].copy(),)


@register
class ThresholdMask(Node):
    """comfy_extras/nodes_mask.py ThresholdMask: (mask > value) as 0/1."""

    class_type = "ThresholdMask"

    def compute(self, mask: np.ndarray, value: float, **_: Any) -> tuple[Any, ...]:
        return ((mask > value).astype(np.float32),)


@register
class EmptySD3LatentImage(Node):
    """comfy_extras/nodes_sd3.py: 16 latent channels."""

    class_type = "EmptySD3LatentImage"

    def compute(self, width: int, height: int, batch_size: int = 1, **_: Any) -> tuple[Any, ...]:
        return ({"samples": np.zeros((batch_size, 16, height // 8, width // 8), np.float32)},)


def resize(images: np.ndarray, width: int, height: int, crop: str = "disabled") -> np.ndarray:
    """comfy/utils.py common_upscale's geometry (centre crop to the new aspect, then scale);
    every method samples nearest pixels here."""
    h, w = images.shape[1:3]
    if crop == "center":
        old, new = w / h, width / height
        x = round((w - w * (new / old)) / 2) if old > new else 0
        y = round((h - h * (old / new)) / 2) if old < new else 0
        images = images[:, y : h - y, x : w - x]
        h, w = images.shape[1:3]
    rows = (np.arange(height) * h // height).clip(0, h - 1)
    cols = (np.arange(width) * w // width).clip(0, w - 1)
    return images[:, rows][:, :, cols]


@register
class ImageScale(Node):
    """nodes.py ImageScale: a 0 side keeps the aspect ratio; both 0 keeps the image."""

    class_type = "ImageScale"

    def compute(
        self, image: np.ndarray, width: int, height: int, crop: str = "disabled", **_: Any
    ) -> tuple[Any, ...]:
        if width == 0 and height == 0:
            return (image,)
        h, w = image.shape[1:3]
        if width == 0:
            width = max(1, round(w * height / h))
        elif height == 0:
            height = max(1, round(h * width / w))
        return (resize(image, width, height, crop),)


@register
class ImageScaleBy(Node):
    class_type = "ImageScaleBy"

    def compute(self, image: np.ndarray, scale_by: float, **_: Any) -> tuple[Any, ...]:
        h, w = image.shape[1:3]
        return (resize(image, round(w * scale_by), round(h * scale_by)),)
