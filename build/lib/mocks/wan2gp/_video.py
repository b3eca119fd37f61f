"""Encode a small, deterministic MP4 (valid container) for a prompt and seed with PyAV."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

MAX_WIDTH = 64
FPS = 16


def tiny_size(resolution: str) -> tuple[int, int]:
    """Map a Wan2GP resolution ("832x480") to a tiny frame size with the same aspect ratio."""
    try:
        width, height = (int(part) for part in resolution.lower().split("x", 1))
    except ValueError:
        raise ValueError(f"resolution must look like 832x480, got {resolution!r}") from None
    if width <= 0 or height <= 0:
        raise ValueError(f"resolution must be positive, got {resolution!r}")
    scale = MAX_WIDTH / max(width, height)
    even = lambda v: max(16, round(v * scale / 2) * 2)  # noqa: E731 - tiny local helper
    return even(width), even(height)


def frame_pixels(prompt: str, seed: int, index: int, width: int, height: int) -> np.ndarray:
    """RGB frame `index`: a colour from hash(prompt, seed) plus a bar moving with `index`."""
    digest = hashlib.sha256(f"{seed}:{prompt}".encode()).digest()
    base = np.array(list(digest[:3]), dtype=np.uint8)
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[:, :] = base
    x = (index * 2) % width
    frame[:, x : x + 2] = 255 - base
    return frame


def encode_mp4(path: Path, prompt: str, seed: int, frames: int, resolution: str) -> Path:
    """Write `frames` frames at FPS fps to `path` (H.264 when available, else MPEG-4 part 2)."""
    width, height = tiny_size(resolution)
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream(codec, rate=FPS)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, FPS)
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "threads": "1"}
        for index in range(max(1, frames)):
            image = av.VideoFrame.from_ndarray(
                frame_pixels(prompt, seed, index, width, height), format="rgb24"
            )
            image.pts = index
            for packet in stream.encode(image):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
