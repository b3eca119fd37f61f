"""Model-free image and mask nodes of Comfy-Org/ComfyUI v0.3.77, on numpy IMAGE/MASK values.

Each class names the release file it follows; shapes, batch handling and value ranges are
the release's (images [B,H,W,C], masks [B,H,W]).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PIL import Image

from . import _resample, _torch_random
from ._node_types import Node, register, to_images


def alpha_fix(destination: np.ndarray, source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """node_helpers.py image_alpha_fix: trim the source's channels, or give the destination
    one more channel of ones."""
    if destination.shape[-1] < source.shape[-1]:
        return destination, source[..., : destination.shape[-1]]
    if destination.shape[-1] > source.shape[-1]:
        pad = np.ones((*destination.shape[:-1], 1), destination.dtype)
        return np.concatenate([destination, pad], axis=-1), source
    return destination, source


def repeat_to_batch(values: np.ndarray, batch: int) -> np.ndarray:
    """comfy/utils.py repeat_to_batch_size along the first axis."""
    if values.shape[0] > batch:
        return values[:batch]
    if values.shape[0] < batch:
        reps = math.ceil(batch / values.shape[0])
        return np.tile(values, (reps,) + (1,) * (values.ndim - 1))[:batch]
    return values


def gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    """nodes_post_processing.py gaussian_kernel: a normalised size x size kernel on [-1, 1]."""
    axis = np.linspace(-1, 1, size, dtype=np.float32)
    x, y = np.meshgrid(axis, axis, indexing="ij")
    g = np.exp(-(x * x + y * y) / np.float32(2.0 * sigma * sigma))
    return (g / g.sum()).astype(np.float32)


def correlate(images: np.ndarray, kernel: np.ndarray, radius: int) -> np.ndarray:
    """A depthwise conv2d over a reflect-padded [B,H,W,C] image (the release's pad, conv
    and crop come to this)."""
    b, h, w, c = images.shape
    if radius >= h or radius >= w:
        raise RuntimeError(
            f"Argument #4: Padding size should be less than the corresponding input "
            f"dimension, but got: padding ({radius}, {radius}) at dimension 3 of input "
            f"[{b}, {c}, {h}, {w}]"
        )
    padded = np.pad(images, ((0, 0), (radius, radius), (radius, radius), (0, 0)), "reflect")
    out = np.zeros_like(images)
    size = kernel.shape[0]
    for dy in range(size):
        for dx in range(size):
            out += kernel[dy, dx] * padded[:, dy : dy + h, dx : dx + w, :]
    return out


@register
class ImageBlur(Node):
    """comfy_extras/nodes_post_processing.py Blur."""

    def compute(
        self, image: np.ndarray, blur_radius: int, sigma: float, **_: Any
    ) -> tuple[Any, ...]:
        if blur_radius == 0:
            return (image,)
        kernel = gaussian_kernel(blur_radius * 2 + 1, sigma)
        return (correlate(image, kernel, blur_radius),)


@register
class ImageSharpen(Node):
    """comfy_extras/nodes_post_processing.py Sharpen: clamped to [0, 1]."""

    def compute(
        self, image: np.ndarray, sharpen_radius: int, sigma: float, alpha: float, **_: Any
    ) -> tuple[Any, ...]:
        if sharpen_radius == 0:
            return (image,)
        size = sharpen_radius * 2 + 1
        kernel = gaussian_kernel(size, sigma) * np.float32(-(alpha * 10))
        centre = size // 2
        kernel[centre, centre] = kernel[centre, centre] - kernel.sum() + 1.0
        return (np.clip(correlate(image, kernel, sharpen_radius), 0, 1),)


def _soft_light_g(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.25, ((16 * x - 12) * x + 4) * x, np.sqrt(np.maximum(x, 0)))


BLEND_MODES = {
    "normal": lambda a, b: b,
    "multiply": lambda a, b: a * b,
    "screen": lambda a, b: 1 - (1 - a) * (1 - b),
    "overlay": lambda a, b: np.where(a <= 0.5, 2 * a * b, 1 - 2 * (1 - a) * (1 - b)),
    "soft_light": lambda a, b: np.where(
        b <= 0.5, a - (1 - 2 * b) * a * (1 - a), a + (2 * b - 1) * (_soft_light_g(a) - a)
    ),
    "difference": lambda a, b: a - b,
}


@register
class ImageBlend(Node):
    """comfy_extras/nodes_post_processing.py Blend: image2 fitted to image1 (bicubic, centre
    crop); a combo value outside the list reaches execution (v3 COMBO is not list-checked)."""

    def compute(
        self,
        image1: np.ndarray,
        image2: np.ndarray,
        blend_factor: float,
        blend_mode: str,
        **_: Any,
    ) -> tuple[Any, ...]:
        image1, image2 = alpha_fix(image1, image2)
        if image1.shape != image2.shape:
            h, w = image1.shape[1:3]
            image2 = _resample.upscale_images(image2, w, h, "bicubic", "center")
        if blend_mode not in BLEND_MODES:
            raise ValueError(f"Unsupported blend mode: {blend_mode}")
        blended = BLEND_MODES[blend_mode](image1, image2)
        out = image1 * (1 - blend_factor) + blended * blend_factor
        return (np.clip(out, 0, 1).astype(np.float32),)


@register
class ImageBatch(Node):
    """nodes.py ImageBatch: channels padded with ones, image2 fitted to image1 (bilinear,
    centre crop), then concatenated."""

    def compute(self, image1: np.ndarray, image2: np.ndarray, **_: Any) -> tuple[Any, ...]:
        if image1.shape[-1] != image2.shape[-1]:
            if image1.shape[-1] > image2.shape[-1]:
                image2 = np.pad(image2, ((0, 0),) * 3 + ((0, 1),), constant_values=1.0)
            else:
                image1 = np.pad(image1, ((0, 0),) * 3 + ((0, 1),), constant_values=1.0)
        if image1.shape[1:] != image2.shape[1:]:
            h, w = image1.shape[1:3]
            image2 = _resample.upscale_images(image2, w, h, "bilinear", "center")
        return (np.concatenate([image1, image2], axis=0),)


@register
class ImagePadForOutpaint(Node):
    """nodes.py ImagePadForOutpaint: grey 0.5 border; the mask is 1 outside the image and
    feathered ((f - d) / f)^2 inside along the padded sides."""

    def compute(
        self,
        image: np.ndarray,
        left: int,
        top: int,
        right: int,
        bottom: int,
        feathering: int,
        **_: Any,
    ) -> tuple[Any, ...]:
        b, h, w, c = image.shape
        out = np.full((b, h + top + bottom, w + left + right, c), 0.5, np.float32)
        out[:, top : top + h, left : left + w, :] = image
        mask = np.ones((h + top + bottom, w + left + right), np.float32)
        inner = np.zeros((h, w), np.float32)
        if feathering > 0 and feathering * 2 < h and feathering * 2 < w:
            i = np.arange(h)[:, None]
            j = np.arange(w)[None, :]
            d = np.minimum.reduce(
                [
                    np.broadcast_to(i if top else h, (h, w)),
                    np.broadcast_to(h - i if bottom else h, (h, w)),
                    np.broadcast_to(j if left else w, (h, w)),
                    np.broadcast_to(w - j if right else w, (h, w)),
                ]
            )
            v = (feathering - d) / feathering
            inner = np.where(d >= feathering, 0.0, v * v).astype(np.float32)
        mask[top : top + h, left : left + w] = inner
        return out, mask[None]


def _bilinear_to(values: np.ndarray, height: int, width: int) -> np.ndarray:
    return _resample.interpolate(values, width, height, "bilinear")


@register
class ImageCompositeMasked(Node):
    """comfy_extras/nodes_mask.py ImageCompositeMasked (composite() with multiplier 1)."""

    def compute(
        self,
        destination: np.ndarray,
        source: np.ndarray,
        x: int,
        y: int,
        resize_source: bool,
        mask: np.ndarray | None = None,
        **_: Any,
    ) -> tuple[Any, ...]:
        destination, source = alpha_fix(destination, source)
        dest = np.moveaxis(destination, -1, 1).copy()
        src = np.moveaxis(source, -1, 1)
        if resize_source:
            src = _bilinear_to(src, dest.shape[-2], dest.shape[-1])
        src = repeat_to_batch(src, dest.shape[0])
        x = max(-src.shape[-1], min(x, dest.shape[-1]))
        y = max(-src.shape[-2], min(y, dest.shape[-2]))
        left, top = x, y
        right, bottom = left + src.shape[-1], top + src.shape[-2]
        if mask is None:
            weights = np.ones_like(src)
        else:
            m = mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1]))
            weights = repeat_to_batch(_bilinear_to(m, src.shape[-2], src.shape[-1]), src.shape[0])
        visible_w = dest.shape[-1] - left + min(0, x)
        visible_h = dest.shape[-2] - top + min(0, y)
        weights = weights[:, :, :visible_h, :visible_w]
        part = weights * src[..., :visible_h, :visible_w]
        rest = (1 - weights) * dest[..., top:bottom, left:right]
        dest[..., top:bottom, left:right] = part + rest
        return (np.moveaxis(dest, 1, -1),)


@register
class ImageRotate(Node):
    """comfy_extras/nodes_images.py ImageRotate: torch.rot90(k, dims=[2, 1]) (clockwise)."""

    def compute(self, image: np.ndarray, rotation: str, **_: Any) -> tuple[Any, ...]:
        turns = {"90": 1, "180": 2, "270": 3}.get(rotation.split(" ")[0], 0)
        return (np.rot90(image, k=turns, axes=(2, 1)).copy(),)


STITCH_COLOURS: dict[str, Any] = {
    "white": 1.0,
    "black": 0.0,
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
}


def _pad_centre(image: np.ndarray, axis: int, size: int, value: float) -> np.ndarray:
    missing = size - image.shape[axis]
    if missing <= 0:
        return image
    widths = [(0, 0)] * image.ndim
    widths[axis] = (missing // 2, missing - missing // 2)
    return np.pad(image, widths, constant_values=value)


def _ones_channels(image: np.ndarray, channels: int) -> np.ndarray:
    if image.shape[-1] >= channels:
        return image
    extra = np.ones((*image.shape[:-1], channels - image.shape[-1]), np.float32)
    return np.concatenate([image, extra], axis=-1)


@register
class ImageStitch(Node):
    """comfy_extras/nodes_images.py ImageStitch: batches padded with their last image,
    image2 resized (lanczos) to image1's height or width or centre-padded, optional spacing."""

    def compute(
        self,
        image1: np.ndarray,
        direction: str,
        match_image_size: bool,
        spacing_width: int,
        spacing_color: str,
        image2: np.ndarray | None = None,
        **_: Any,
    ) -> tuple[Any, ...]:
        if image2 is None:
            return (image1,)
        batch = max(image1.shape[0], image2.shape[0])
        image1 = np.concatenate([image1, np.repeat(image1[-1:], batch - image1.shape[0], 0)])
        image2 = np.concatenate([image2, np.repeat(image2[-1:], batch - image2.shape[0], 0)])
        sideways = direction in ("left", "right")
        colour = STITCH_COLOURS[spacing_color]
        if match_image_size:
            h1, w1 = image1.shape[1:3]
            h2, w2 = image2.shape[1:3]
            aspect = w2 / h2
            tw, th = (int(h1 * aspect), h1) if sideways else (w1, int(w1 / aspect))
            image2 = _resample.upscale_images(image2, tw, th, "lanczos")
        else:
            value = 0.0 if isinstance(colour, tuple) else colour
            axis = 1 if sideways else 2
            size = max(image1.shape[axis], image2.shape[axis])
            image1 = _pad_centre(image1, axis, size, value)
            image2 = _pad_centre(image2, axis, size, value)
        channels = max(image1.shape[-1], image2.shape[-1])
        image1, image2 = _ones_channels(image1, channels), _ones_channels(image2, channels)
        parts = [image2, image1] if direction in ("left", "up") else [image1, image2]
        if spacing_width > 0:
            spacing_width += spacing_width % 2
            if sideways:
                shape = (batch, max(image1.shape[1], image2.shape[1]), spacing_width, channels)
            else:
                shape = (batch, spacing_width, max(image1.shape[2], image2.shape[2]), channels)
            spacing = np.zeros(shape, np.float32)
            values = colour if isinstance(colour, tuple) else (colour,) * min(3, channels)
            for i, v in enumerate(values[:channels]):
                spacing[..., i] = v
            if channels == 4:
                spacing[..., 3] = 1.0
            parts.insert(1, spacing)
        return (np.concatenate(parts, axis=2 if sideways else 1),)


@register
class ResizeAndPadImage(Node):
    """comfy_extras/nodes_images.py ResizeAndPadImage: fit inside the target (int() sizes),
    centred on white or black."""

    def compute(
        self,
        image: np.ndarray,
        target_width: int,
        target_height: int,
        padding_color: str,
        interpolation: str,
        **_: Any,
    ) -> tuple[Any, ...]:
        b, h, w, c = image.shape
        scale = min(target_width / w, target_height / h)
        new_w, new_h = int(w * scale), int(h * scale)
        resized = _resample.upscale_images(image, new_w, new_h, interpolation)
        out = np.full((b, target_height, target_width, c), 0.0 if padding_color == "black" else 1.0)
        y, x = (target_height - new_h) // 2, (target_width - new_w) // 2
        out[:, y : y + new_h, x : x + new_w, :] = resized
        return (out.astype(np.float32),)


def _bayer_matrix(level: int) -> np.ndarray:
    if level == 0:
        return np.zeros((1, 1), np.float32)
    q = 4**level
    m = q * _bayer_matrix(level - 1)
    return np.block([[m - 1.5, m + 0.5], [m + 1.5, m - 0.5]]) / q


def _bayer_quantize(im: Image.Image, palette: Image.Image, order: int) -> Image.Image:
    colours = len(palette.getpalette() or []) // 3
    matrix = (2 * 256 / colours) * _bayer_matrix(int(math.log2(order))) + 0.5
    pixels = np.asarray(im, np.float32)
    reps = (
        math.ceil(pixels.shape[0] / matrix.shape[0]),
        math.ceil(pixels.shape[1] / matrix.shape[1]),
    )
    tiled = np.tile(matrix, reps)[: pixels.shape[0], : pixels.shape[1], None]
    dithered = np.clip(pixels + tiled, 0, 255).astype(np.uint8)
    return Image.fromarray(dithered).quantize(palette=palette, dither=Image.Dither.NONE)


@register
class ImageQuantize(Node):
    """comfy_extras/nodes_post_processing.py Quantize: Pillow's quantize per image."""

    def compute(self, image: np.ndarray, colors: int, dither: str, **_: Any) -> tuple[Any, ...]:
        out = np.zeros_like(image)
        for i, frame in enumerate(image):
            im = Image.fromarray((frame * 255).astype(np.uint8)[..., :3], mode="RGB")
            palette = im.quantize(colors=colors)
            if dither.startswith("bayer"):
                q = _bayer_quantize(im, palette, int(dither.split("-")[-1]))
            else:
                kind = Image.Dither.FLOYDSTEINBERG if dither == "floyd-steinberg" else 0
                q = im.quantize(palette=palette, dither=Image.Dither(kind))
            out[i] = to_images([q])[0]
        return (out,)


@register
class ImageAddNoise(Node):
    """comfy_extras/nodes_images.py ImageAddNoise: torch.randn seeded, clipped to [0, 1]."""

    def compute(self, image: np.ndarray, seed: int, strength: float, **_: Any) -> tuple[Any, ...]:
        noise = _torch_random.randn(int(seed), image.shape)
        return (np.clip(image + np.float32(strength) * noise, 0.0, 1.0),)


def _dilate(mask: np.ndarray, tapered: bool, erode: bool) -> np.ndarray:
    """One scipy.ndimage grey_dilation/grey_erosion with a 3x3 cross or square footprint
    (edges reflect, which for 3x3 repeats the border)."""
    h, w = mask.shape
    padded = np.pad(mask, 1, mode="edge")
    offsets = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    if tapered:
        offsets = [o for o in offsets if 0 in o]
    stack = [padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in offsets]
    return np.min(stack, axis=0) if erode else np.max(stack, axis=0)


@register
class GrowMask(Node):
    """comfy_extras/nodes_mask.py GrowMask: |expand| dilations (erosions when negative)."""

    def compute(
        self, mask: np.ndarray, expand: int, tapered_corners: bool, **_: Any
    ) -> tuple[Any, ...]:
        masks = mask.reshape((-1, mask.shape[-2], mask.shape[-1]))
        out = []
        for m in masks:
            for _step in range(abs(expand)):
                m = _dilate(m, tapered_corners, erode=expand < 0)
            out.append(m)
        return (np.stack(out).astype(np.float32),)


@register
class JoinImageWithAlpha(Node):
    """comfy_extras/nodes_compositing.py JoinImageWithAlpha: RGB plus 1 - mask (bilinear to
    the image's size); the batch is the shorter of the two."""

    def compute(self, image: np.ndarray, alpha: np.ndarray, **_: Any) -> tuple[Any, ...]:
        batch = min(len(image), len(alpha))
        a = alpha.reshape((-1, 1, alpha.shape[-2], alpha.shape[-1]))
        a = 1.0 - _bilinear_to(a, image.shape[1], image.shape[2])[:, 0]
        out = [np.concatenate([image[i][..., :3], a[i][..., None]], axis=-1) for i in range(batch)]
        return (np.stack(out).astype(np.float32),)


@register
class SplitImageWithAlpha(Node):
    """comfy_extras/nodes_compositing.py SplitImageWithAlpha: RGB and 1 - alpha (zeros
    without an alpha channel)."""

    def compute(self, image: np.ndarray, **_: Any) -> tuple[Any, ...]:
        rgb = image[..., :3].copy()
        alpha = image[..., 3] if image.shape[-1] > 3 else np.ones(image.shape[:3], np.float32)
        return rgb, (1.0 - alpha).astype(np.float32)
