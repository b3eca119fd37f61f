"""What ComfyUI's core nodes do to the shapes and values that flow through a graph.

The generator fills inputs from `object_info` alone; these rules add what object_info cannot
say: the shape of each output (so a graph declares the images it will produce) and the
input ranges that keep a run finite and successful (a crop origin inside the image, a scale
that leaves at least one pixel, batches that broadcast). They follow Comfy-Org/ComfyUI v0.3.77
(as the mock does): nodes.py (the txt2img set, the loaders, EmptyImage, ImageScale, ImageInvert,
ImageBatch, ImagePadForOutpaint, the latent nodes, the mask nodes), node_helpers.py
(image_alpha_fix) and comfy_extras/nodes_images.py, nodes_mask.py, nodes_post_processing.py,
nodes_compositing.py, nodes_preview_any.py, nodes_sd3.py, nodes_primitive.py, nodes_string.py.
A class without a rule is left out of generated graphs unless asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ._comfyui_files import InputImage, InputLatent


class Unfit(Exception):
    """The values drawn so far cannot feed this node inside the preset (two batches that do
    not broadcast, an image too small for a blur): the graph is redrawn."""


def require(condition: bool, why: str) -> None:
    """Raise Unfit(why) unless `condition`."""
    if not condition:
        raise Unfit(why)


@dataclass(frozen=True)
class Pixels:
    """An IMAGE ([B,H,W,C]) or MASK ([B,H,W], channels 1) value's shape."""

    batch: int
    height: int
    width: int
    channels: int = 3


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
# element-steps one node may cost (a blur's kernel taps times the image's values): the mock
# computes on numpy, and a 31-pixel blur of a 1024x1024 batch would take minutes
WORK = 40_000_000


def _no_bounds(inputs: Inputs, limits: Limits) -> Bounds:
    return {}


@dataclass(frozen=True)
class Rule:
    """One class: its outputs from its resolved inputs, and input bounds from its links.

    `saves`: an output node's image folder (output, temp, websocket), with `animated` when
    the batch goes into one file; `records`: what else an output node shows in /history
    (latents, text). `reads`: the input naming a file of the given kind (resolved to its
    InputImage / InputLatent). `echoes`: the widget the class outputs unchanged, so the
    builder may choose it for the node's consumers."""

    outputs: Callable[[Inputs], tuple[Any, ...]]
    bounds: Callable[[Inputs, Limits], Bounds] = _no_bounds
    saves: str | None = None
    animated: bool = False
    records: str | None = None
    reads: tuple[str, type] | None = None
    echoes: str | None = None


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
        replace(
            image, height=min(i["height"], image.height - y), width=min(i["width"], image.width - x)
        ),
    )


def _crop_bounds(i: Inputs, limits: Limits) -> Bounds:
    image: Pixels = i["image"]
    return {"x": (0, image.width - 1), "y": (0, image.height - 1)}


def _repeat_bounds(i: Inputs, limits: Limits) -> Bounds:
    return {"amount": (1, max(1, limits.max_batch // i["image"].batch))}


def _repeat(i: Inputs) -> tuple[Any, ...]:
    image: Pixels = i["image"]
    return (replace(image, batch=image.batch * i["amount"]),)


def _from_batch_bounds(i: Inputs, limits: Limits) -> Bounds:
    return {"batch_index": (0, limits.max_batch), "length": (1, limits.max_batch)}


def _from_batch(i: Inputs) -> tuple[Any, ...]:
    image: Pixels = i["image"]
    start = min(image.batch - 1, i["batch_index"])
    return (replace(image, batch=min(image.batch - start, i["length"])),)


def _scale(i: Inputs) -> tuple[Any, ...]:
    return (replace(i["image"], height=i["height"], width=i["width"]),)


def _scale_by_bounds(i: Inputs, limits: Limits) -> Bounds:
    image: Pixels = i["image"]
    low = 1 / min(image.width, image.height)  # at least one pixel on each side
    return {"scale_by": (low, limits.max_size / max(image.width, image.height))}


def _scale_by(i: Inputs) -> tuple[Any, ...]:
    image: Pixels = i["image"]
    s = i["scale_by"]
    return (replace(image, height=round(image.height * s), width=round(image.width * s)),)


def _size(i: Inputs) -> tuple[Any, ...]:
    image: Pixels = i["image"]
    return image.width, image.height, image.batch


def _mask_of(i: Inputs) -> tuple[Any, ...]:
    return (replace(i["image"], channels=1),)


def _image_of_mask(i: Inputs) -> tuple[Any, ...]:
    return (replace(i["mask"], channels=3),)


def _to_mask_bounds(i: Inputs, limits: Limits) -> Bounds:
    channels = ("red", "green", "blue", "alpha")[: i["image"].channels]
    return {"channel": channels}  # a channel past the image's would index out of range


def _values(p: Pixels) -> int:
    return p.batch * p.height * p.width * p.channels


def _affordable(image: Pixels, taps: Callable[[int], int]) -> int:
    """The largest n (at least 1) whose taps(n) times the image's values stay in WORK."""
    high = 1
    while taps(high + 1) * _values(image) <= WORK:
        high += 1
    return high


def _grow_bounds(i: Inputs, limits: Limits) -> Bounds:
    high = _affordable(i["mask"], lambda n: 9 * n)  # one 3x3 dilation per step
    return {"expand": (-high, high)}


def _kernel_bounds(name: str) -> Callable[[Inputs, Limits], Bounds]:
    def bounds(i: Inputs, limits: Limits) -> Bounds:
        image: Pixels = i["image"]
        # reflect padding needs the radius below each side (RuntimeError otherwise)
        require(min(image.height, image.width) >= 2, "image too small to blur")
        high = _affordable(image, lambda r: (2 * r + 1) ** 2)
        return {name: (1, min(high, min(image.height, image.width) - 1))}

    return bounds


def _broadcast(a: int, b: int) -> int:
    require(a == b or 1 in (a, b), f"batches {a} and {b} do not broadcast")
    return max(a, b)


def _blend(i: Inputs) -> tuple[Any, ...]:
    a: Pixels = i["image1"]
    b: Pixels = i["image2"]
    # node_helpers.image_alpha_fix pads image1 with one more channel when image2 has fewer
    require(a.channels <= b.channels, "image1 has more channels than image2")
    return (replace(a, batch=_broadcast(a.batch, b.batch)),)


def _batch(i: Inputs) -> tuple[Any, ...]:
    a: Pixels = i["image1"]
    b: Pixels = i["image2"]
    return (replace(a, batch=a.batch + b.batch, channels=max(a.channels, b.channels)),)


def _composite(i: Inputs) -> tuple[Any, ...]:
    destination: Pixels = i["destination"]
    require(destination.channels <= i["source"].channels, "destination has more channels")
    return (destination,)


def _composite_bounds(i: Inputs, limits: Limits) -> Bounds:
    destination: Pixels = i["destination"]
    return {"x": (0, destination.width), "y": (0, destination.height)}


def _pad(i: Inputs) -> tuple[Any, ...]:
    image: Pixels = i["image"]
    height = image.height + i["top"] + i["bottom"]
    width = image.width + i["left"] + i["right"]
    return replace(image, height=height, width=width), Pixels(1, height, width, 1)


def _pad_bounds(i: Inputs, limits: Limits) -> Bounds:
    image: Pixels = i["image"]
    across = (0, (limits.max_size - image.width) // 2)
    down = (0, (limits.max_size - image.height) // 2)
    return {"left": across, "right": across, "top": down, "bottom": down}


def _quantize(i: Inputs) -> tuple[Any, ...]:
    # Quantize writes Pillow's RGB result into a tensor shaped like the input
    require(i["image"].channels == 3, "Quantize needs an RGB image")
    return (i["image"],)


def _rotate(i: Inputs) -> tuple[Any, ...]:
    image: Pixels = i["image"]
    if i["rotation"].startswith(("90", "270")):
        return (replace(image, height=image.width, width=image.height),)
    return (image,)


def _stitch(i: Inputs) -> tuple[Any, ...]:
    a: Pixels = i["image1"]
    b: Pixels | None = i.get("image2")
    if b is None:
        return (a,)
    sideways = i["direction"] in ("left", "right")
    if i["match_image_size"]:
        aspect = b.width / b.height
        if sideways:
            b = replace(b, height=a.height, width=int(a.height * aspect))
        else:
            b = replace(b, height=int(a.width / aspect), width=a.width)
        require(min(b.width, b.height) >= 1, "image2 resized to nothing")
    spacing = i["spacing_width"] + i["spacing_width"] % 2
    channels = max(a.channels, b.channels)
    batch = max(a.batch, b.batch)
    if sideways:
        size = (max(a.height, b.height), a.width + b.width + spacing)
    else:
        size = (a.height + b.height + spacing, max(a.width, b.width))
    return (Pixels(batch, size[0], size[1], channels),)


def _stitch_bounds(i: Inputs, limits: Limits) -> Bounds:
    return {"spacing_width": (0, 32)}


def _resize_and_pad(i: Inputs) -> tuple[Any, ...]:
    image: Pixels = i["image"]
    width, height = i["target_width"], i["target_height"]
    scale = min(width / image.width, height / image.height)
    require(min(int(image.width * scale), int(image.height * scale)) >= 1, "resized to nothing")
    return (replace(image, height=height, width=width),)


def _target_bounds(i: Inputs, limits: Limits) -> Bounds:
    side = (limits.min_size, limits.max_size)
    return {"target_width": side, "target_height": side}


def _join_alpha(i: Inputs) -> tuple[Any, ...]:
    image: Pixels = i["image"]
    return (replace(image, batch=min(image.batch, i["alpha"].batch), channels=4),)


def _split_alpha(i: Inputs) -> tuple[Any, ...]:
    image: Pixels = i["image"]
    return replace(image, channels=3), replace(image, channels=1)


def _latent_blend(i: Inputs) -> tuple[Any, ...]:
    a: Latent = i["samples1"]
    b: Latent = i["samples2"]
    require(a.channels == b.channels, "latents of different channels")
    return (replace(a, batch=_broadcast(a.batch, b.batch)),)


def _latent_composite(i: Inputs) -> tuple[Any, ...]:
    to: Latent = i["samples_to"]
    source: Latent = i["samples_from"]
    require(to.channels == source.channels, "latents of different channels")
    require(source.batch in (1, to.batch), "samples_from's batch does not fit samples_to's")
    return (to,)


def _latent_composite_bounds(i: Inputs, limits: Limits) -> Bounds:
    to: Latent = i["samples_to"]
    # a corner past the target slices samples_from with a negative stop
    return {"x": (0, (to.width - 1) * 8), "y": (0, (to.height - 1) * 8), "feather": (0, 64)}


def _latent_upscale(i: Inputs) -> tuple[Any, ...]:
    height, width = max(64, i["height"]), max(64, i["width"])
    return (replace(i["samples"], height=height // 8, width=width // 8),)


def _latent_scale_by_bounds(i: Inputs, limits: Limits) -> Bounds:
    s: Latent = i["samples"]
    return {"scale_by": (1 / min(s.width, s.height), limits.max_size / 8 / max(s.width, s.height))}


def _latent_scale_by(i: Inputs) -> tuple[Any, ...]:
    s: Latent = i["samples"]
    scale = i["scale_by"]
    return (replace(s, height=round(s.height * scale), width=round(s.width * scale)),)


def _loaded_image(i: Inputs) -> tuple[Any, ...]:
    f = i["image"]
    image = Pixels(f.frames, f.height, f.width)
    mask = replace(image, channels=1) if f.alpha else Pixels(f.frames, 64, 64, 1)
    return image, mask


def _loaded_mask(i: Inputs) -> tuple[Any, ...]:
    return (Pixels(1, i["image"].height, i["image"].width, 1),)


def _loaded_latent(i: Inputs) -> tuple[Any, ...]:
    f = i["latent"]
    return (Latent(f.batch, f.channels, f.height // 8, f.width // 8),)


def _webp_bounds(i: Inputs, limits: Limits) -> Bounds:
    # libwebp's slowest method on a large batch takes many seconds per frame
    large = _values(i["images"]) > 3 * 512 * 512
    return {"method": ("default", "fastest") if large else ("default", "fastest", "slowest")}


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
    "SaveAnimatedPNG": Rule(_opaque(0), saves="output", animated=True),
    "SaveAnimatedWEBP": Rule(_opaque(0), _webp_bounds, saves="output", animated=True),
    "SaveLatent": Rule(_opaque(0), records="latents"),
    "PreviewAny": Rule(_opaque(0), records="text"),
    "LoadImage": Rule(_loaded_image, reads=("image", InputImage)),
    "LoadImageOutput": Rule(_loaded_image, reads=("image", InputImage)),
    "LoadImageMask": Rule(_loaded_mask, reads=("image", InputImage)),
    "LoadLatent": Rule(_loaded_latent, reads=("latent", InputLatent)),
    "EmptyImage": Rule(lambda i: (Pixels(i["batch_size"], i["height"], i["width"]),)),
    "ImageInvert": Rule(_passthrough("image")),
    "ImageFlip": Rule(_passthrough("image")),
    "ImageRotate": Rule(_rotate),
    "ImageAddNoise": Rule(_passthrough("image")),
    "ImageBlur": Rule(_passthrough("image"), _kernel_bounds("blur_radius")),
    "ImageSharpen": Rule(_passthrough("image"), _kernel_bounds("sharpen_radius")),
    "ImageQuantize": Rule(_quantize),
    "ImageBlend": Rule(_blend),
    "ImageBatch": Rule(_batch),
    "ImageCompositeMasked": Rule(_composite, _composite_bounds),
    "ImagePadForOutpaint": Rule(_pad, _pad_bounds),
    "ImageStitch": Rule(_stitch, _stitch_bounds),
    "ResizeAndPadImage": Rule(_resize_and_pad, _target_bounds),
    "JoinImageWithAlpha": Rule(_join_alpha),
    "SplitImageWithAlpha": Rule(_split_alpha),
    "ImageToMask": Rule(_mask_of, _to_mask_bounds),
    "MaskToImage": Rule(_image_of_mask),
    "SolidMask": Rule(lambda i: (Pixels(1, i["height"], i["width"], 1),)),
    "InvertMask": Rule(_passthrough("mask")),
    "ThresholdMask": Rule(_passthrough("mask")),
    "GrowMask": Rule(_passthrough("mask"), _grow_bounds),
    "GetImageSize": Rule(_size),
    "PrimitiveInt": Rule(_passthrough("value"), echoes="value"),
    "PrimitiveFloat": Rule(_passthrough("value"), echoes="value"),
    "PrimitiveString": Rule(_passthrough("value"), echoes="value"),
    "PrimitiveBoolean": Rule(_passthrough("value"), echoes="value"),
    "StringConcatenate": Rule(
        lambda i: (i.get("delimiter", "").join([i["string_a"], i["string_b"]]),)
    ),
    "ImageCrop": Rule(_crop, _crop_bounds),
    "RepeatImageBatch": Rule(_repeat, _repeat_bounds),
    "ImageFromBatch": Rule(_from_batch, _from_batch_bounds),
    "ImageScale": Rule(_scale),
    "ImageScaleBy": Rule(_scale_by, _scale_by_bounds),
    "LatentUpscale": Rule(_latent_upscale),
    "LatentUpscaleBy": Rule(_latent_scale_by, _latent_scale_by_bounds),
    "LatentBlend": Rule(_latent_blend),
    "LatentComposite": Rule(_latent_composite, _latent_composite_bounds),
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
