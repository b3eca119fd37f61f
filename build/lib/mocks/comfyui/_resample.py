"""comfy/utils.py common_upscale in numpy: torch.nn.functional.interpolate's sampling.

Each method is a weight matrix per axis (align_corners=False, as ComfyUI calls it), so
sizes and, up to float rounding, pixel values are those of Comfy-Org/ComfyUI v0.3.77.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

CUBIC_A = -0.75  # aten/src/ATen/native/UpSample.h get_cubic_upsample_coefficients


def _nearest(n_in: int, n_out: int, exact: bool) -> np.ndarray:
    scale = n_in / n_out
    offset = 0.5 if exact else 0.0
    src = np.minimum(np.floor((np.arange(n_out) + offset) * scale).astype(int), n_in - 1)
    weights = np.zeros((n_out, n_in), np.float64)
    weights[np.arange(n_out), src] = 1.0
    return weights


def _linear(n_in: int, n_out: int) -> np.ndarray:
    scale = n_in / n_out
    weights = np.zeros((n_out, n_in), np.float64)
    for i in range(n_out):
        src = max((i + 0.5) * scale - 0.5, 0.0)
        i0 = min(math.floor(src), n_in - 1)
        i1 = min(i0 + 1, n_in - 1)
        lam = src - i0
        weights[i, i0] += 1.0 - lam
        weights[i, i1] += lam
    return weights


def _cubic_coefficients(t: float) -> list[float]:
    def near(x: float) -> float:
        return ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1

    def far(x: float) -> float:
        return ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _cubic(n_in: int, n_out: int) -> np.ndarray:
    scale = n_in / n_out
    weights = np.zeros((n_out, n_in), np.float64)
    for i in range(n_out):
        src = (i + 0.5) * scale - 0.5
        base = math.floor(src)
        for k, w in enumerate(_cubic_coefficients(src - base)):
            weights[i, min(max(base - 1 + k, 0), n_in - 1)] += w
    return weights


def _area(n_in: int, n_out: int) -> np.ndarray:
    """adaptive_avg_pool: [floor(i*in/out), ceil((i+1)*in/out))."""
    weights = np.zeros((n_out, n_in), np.float64)
    for i in range(n_out):
        start = (i * n_in) // n_out
        end = -((-(i + 1) * n_in) // n_out)
        weights[i, start:end] = 1.0 / (end - start)
    return weights


def _weights(method: str, n_in: int, n_out: int) -> np.ndarray:
    if method == "nearest":
        return _nearest(n_in, n_out, exact=False)
    if method == "nearest-exact":
        return _nearest(n_in, n_out, exact=True)
    if method == "area":
        return _area(n_in, n_out)
    if method == "bicubic":
        return _cubic(n_in, n_out)
    return _linear(n_in, n_out)  # bilinear; bislerp is approximated by it


def interpolate(samples: np.ndarray, width: int, height: int, method: str) -> np.ndarray:
    """[..., H, W] resized to [..., height, width] (lanczos through Pillow, as ComfyUI)."""
    if method == "lanczos":
        return _lanczos(samples, width, height)
    h, w = samples.shape[-2:]
    # separable: rows then columns, each only through its band of non-zero weights (a dense
    # product would cost height x h per column: minutes for a 1024-pixel batch)
    out = _banded(_weights(method, h, height), samples.astype(np.float64), axis=-2)
    return _banded(_weights(method, w, width), out, axis=-1).astype(np.float32)


def _banded(weights: np.ndarray, values: np.ndarray, axis: int) -> np.ndarray:
    """weights (n_out, n_in) applied along `axis`: each output row sums its band
    [first, last non-zero] of inputs (interpolation weights are contiguous per row)."""
    nonzero = weights != 0
    first = np.argmax(nonzero, axis=1)
    last = weights.shape[1] - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    taps = int((last - first).max()) + 1
    out = np.zeros(
        (
            *values.shape[: axis % values.ndim],
            weights.shape[0],
            *values.shape[axis % values.ndim + 1 :],
        )
    )
    shape = [1] * values.ndim
    shape[axis] = weights.shape[0]
    for k in range(taps):
        index = np.minimum(first + k, weights.shape[1] - 1)
        tap = np.where(first + k <= last, weights[np.arange(weights.shape[0]), index], 0.0)
        out += tap.reshape(shape) * np.take(values, index, axis=axis)
    return out


def _lanczos(samples: np.ndarray, width: int, height: int) -> np.ndarray:
    """comfy/utils.py lanczos: each [C,H,W] image through a uint8 Pillow LANCZOS resize."""
    out = []
    for image in samples.reshape((-1, *samples.shape[-3:])):
        hwc = np.clip(255.0 * np.moveaxis(image, 0, -1), 0, 255).astype(np.uint8)
        pil = Image.fromarray(hwc[..., 0] if hwc.shape[-1] == 1 else hwc)
        resized = np.asarray(pil.resize((width, height), Image.Resampling.LANCZOS), np.float32)
        resized = resized.reshape((height, width, -1)) / 255.0
        out.append(np.moveaxis(resized, -1, 0))
    return np.stack(out).reshape((*samples.shape[:-2], height, width))


def common_upscale(
    samples: np.ndarray, width: int, height: int, method: str, crop: str
) -> np.ndarray:
    """comfy/utils.py common_upscale on [B,C,H,W]: centre crop to the new aspect, then scale."""
    if crop == "center":
        old_h, old_w = samples.shape[-2:]
        old_aspect, new_aspect = old_w / old_h, width / height
        x = y = 0
        if old_aspect > new_aspect:
            x = round((old_w - old_w * (new_aspect / old_aspect)) / 2)
        elif old_aspect < new_aspect:
            y = round((old_h - old_h * (old_aspect / new_aspect)) / 2)
        samples = samples[..., y : old_h - y, x : old_w - x]
    return interpolate(samples, width, height, method)


def upscale_images(
    images: np.ndarray, width: int, height: int, method: str, crop: str = "disabled"
) -> np.ndarray:
    """An IMAGE [B,H,W,C] through common_upscale (movedim(-1, 1) and back)."""
    moved = np.moveaxis(images, -1, 1)
    return np.moveaxis(common_upscale(moved, width, height, method, crop), 1, -1)
