"""What ComfyUI's core nodes do to the shapes and values that flow through a graph.

The generator fills inputs from `object_info` alone; these rules add what object_info cannot
say: the shape of each output (so a graph declares the images it will produce) and the
input ranges that keep a run finite and successful (a crop origin inside the image, a scale
that leaves at least one pixel). They follow Comfy-Org/ComfyUI v0.3.77: nodes.py (the txt2img
set, EmptyImage, ImageScale, ImageInvert, the mask nodes) and comfy_extras/nodes_images.py,
nodes_mask.py, nodes_sd3.py, nodes_primitive.py, nodes_string.py. A class without a rule is
left out of generated graphs unless asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Pixels:
    """An IMAGE ([B,H,W,C]) or MASK ([B,H,W]) value's shape."""

    batch: int
    height: int
    width: int


@dataclass(frozen=True)
class Latent:
    """A LATENT value's shape; height and width in latent cells (pixels // 8)."""

    batch: int
    channels: int
    height: int
    width: int


@dataclass(frozen=True)
class Limits:
    """The preset's bounds on sizes, batches and sampler steps."""

    min_size: int
    max_size: int
    max_batch: int
    min_steps: int
    max_steps: int


Inputs = Mapping[str, Any]
# name -> (low, high) for a number, or the allowed options of a combo
Bounds = dict[str, tuple[float, float] | tuple[str, ...]]


def _no_bounds(inputs: Inputs, limits: Limits) -> Bounds:
    return {}


@dataclass(frozen=True)
class Rule:
    """One class: its outputs from its resolved inputs, and input bounds from its links."""

    outputs: Callable[[Inputs], tuple[Any, ...]]
    bounds: Callable[[Inputs, Limits], Bounds] = _no_bounds
    saves: str | None = None  # an output node: where its images go (output, temp, websocket)


def _opaque(count: int) -> Callable[[Inputs], tuple[Any, ...]]:
    return lambda inputs: (None,) * count


def _passthrough(name: str) -> Callable[[Inputs], tuple[Any, ...]]:
    return lambda inputs: (inputs[name],)


def _latent(channels: int) -> Callable[[Inputs], tuple[Any, ...]]:
    def outputs(i: Inputs) -> tuple[Any, ...]:
        return (Latent(i["batch_size"], channels, i["height"] // 8, i["width"] // 8),)

    return outputs


def _decoded(i: Inputs) -> tuple[Any, ...]:
    s: Latent = i["samples"]
    return (Pixels(s.batch, s.height * 8, s.width * 8),)


def _crop(i: Inputs) -> tuple[Any, ...]:
    image: Pixels = i["image"]
    x, y = min(i["x"], image.width - 1), min(i["y"], image.height - 1)
    return (
        Pixels(image.batch, min(i["height"], image.height - y), min(i["width"], image.width - x)),
    )


def _crop_bounds(i: Inputs, limits: Limits) -> Bounds:
    image: Pixels = i["image"]
    return {"x": (0, image.width - 1), "y": (0, image.height - 1)}


def _repeat_bounds(i: Inputs, limits: Limits) -> Bounds:
    return {"amount": (1, max(1, limits.max_batch // i["image"].batch))}


def _repeat(i: Inputs) -> tuple[Any, ...]:
    image: Pixels = i["image"]
    return (Pixels(image.batch * i["amount"], image.height, image.width),)


def _from_batch_bounds(i: Inputs, limits: Limits) -> Bounds:
    return {"batch_index": (0, limits.max_batch), "length": (1, limits.max_batch)}


def _from_batch(i: Inputs) -> tuple[Any, ...]:
    image: Pixels = i["image"]
    start = min(image.batch - 1, i["batch_index"])
    return (Pixels(min(image.batch - start, i["length"]), image.height, image.width),)


def _scale(i: Inputs) -> tuple[Any, ...]:
    return (Pixels(i["image"].batch, i["height"], i["width"]),)


def _scale_by_bounds(i: Inputs, limits: Limits) -> Bounds:
    image: Pixels = i["image"]
    low = 1 / min(image.width, image.height)  # at least one pixel on each side
    return {"scale_by": (low, limits.max_size / max(image.width, image.height))}


def _scale_by(i: Inputs) -> tuple[Any, ...]:
    image: Pixels = i["image"]
    s = i["scale_by"]
    return (Pixels(image.batch, round(image.height * s), round(image.width * s)),)


def _size(i: Inputs) -> tuple[Any, ...]:
    image: Pixels = i["image"]
    return image.width, image.height, image.batch


def _image_of_mask(i: Inputs) -> tuple[Any, ...]:
    return (i["mask"],)


RULES: dict[str, Rule] = {
    "CheckpointLoaderSimple": Rule(_opaque(3)),
    "CLIPTextEncode": Rule(_opaque(1)),
    "EmptyLatentImage": Rule(_latent(4)),
    "EmptySD3LatentImage": Rule(_latent(16)),
    "KSampler": Rule(_passthrough("latent_image")),
    "VAEDecode": Rule(_decoded),
    "SaveImage": Rule(_opaque(0), saves="output"),
    "PreviewImage": Rule(_opaque(0), saves="temp"),
    "SaveImageWebsocket": Rule(_opaque(0), saves="websocket"),
    "EmptyImage": Rule(lambda i: (Pixels(i["batch_size"], i["height"], i["width"]),)),
    "ImageInvert": Rule(_passthrough("image")),
    "ImageFlip": Rule(_passthrough("image")),
    # every IMAGE here has 3 channels: "alpha" would index past them (nodes.py ImageToMask)
    "ImageToMask": Rule(
        _passthrough("image"), lambda i, limits: {"channel": ("red", "green", "blue")}
    ),
    "MaskToImage": Rule(_image_of_mask),
    "SolidMask": Rule(lambda i: (Pixels(1, i["height"], i["width"]),)),
    "InvertMask": Rule(_passthrough("mask")),
    "ThresholdMask": Rule(_passthrough("mask")),
    "GetImageSize": Rule(_size),
    "PrimitiveInt": Rule(_passthrough("value")),
    "PrimitiveFloat": Rule(_passthrough("value")),
    "PrimitiveString": Rule(_passthrough("value")),
    "PrimitiveBoolean": Rule(_passthrough("value")),
    "StringConcatenate": Rule(
        lambda i: (i.get("delimiter", "").join([i["string_a"], i["string_b"]]),)
    ),
    "ImageCrop": Rule(_crop, _crop_bounds),
    "RepeatImageBatch": Rule(_repeat, _repeat_bounds),
    "ImageFromBatch": Rule(_from_batch, _from_batch_bounds),
    "ImageScale": Rule(_scale),
    "ImageScaleBy": Rule(_scale_by, _scale_by_bounds),
}


def name_bounds(name: str, limits: Limits) -> tuple[float, float] | None:
    """Bounds every class shares by input name: sizes, batches and steps follow the preset."""
    if name in ("width", "height"):
        return (limits.min_size, limits.max_size)
    if name == "batch_size":
        return (1, limits.max_batch)
    if name == "steps":
        return (limits.min_steps, limits.max_steps)
    return None


def fits(value: Any, limits: Limits) -> bool:
    """Whether an abstract value stays inside the preset (no empty or oversized image)."""
    if isinstance(value, Pixels):
        sides = (value.height, value.width)
        return 1 <= value.batch <= limits.max_batch and all(
            1 <= s <= limits.max_size for s in sides
        )
    if isinstance(value, Latent):
        sides = (value.height * 8, value.width * 8)
        return 1 <= value.batch <= limits.max_batch and all(
            8 <= s <= limits.max_size for s in sides
        )
    return not (isinstance(value, float) and not math.isfinite(value))
