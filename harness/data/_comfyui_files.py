"""Files a graph's loaders read (LoadImage, LoadImageMask, LoadImageOutput, LoadLatent): what
the generator must know of them, and their bytes, to upload before the graph runs."""

from __future__ import annotations

import io
import json
import random
import struct
from dataclasses import dataclass

from .._optional import require
from ._rng import Seed, rng_of

require("PIL", "data", "harness.data")
from PIL import Image  # noqa: E402  (after the check: one line naming the extra)


@dataclass(frozen=True)
class InputImage:
    """An image in ComfyUI's input folder: LoadImage gives `frames` RGB images of this size,
    and masks of this size when it has an alpha channel (else one 64x64 mask per frame)."""

    width: int
    height: int
    frames: int = 1
    alpha: bool = False

    def encode(self, seed: Seed = 0) -> bytes:
        """PNG bytes (APNG when `frames` > 1; RGBA when `alpha`) of seeded noise."""
        rng = rng_of(seed)
        mode = "RGBA" if self.alpha else "RGB"
        frames = [_noise(rng, mode, self.width, self.height) for _ in range(self.frames)]
        out = io.BytesIO()
        frames[0].save(out, "PNG", save_all=self.frames > 1, append_images=frames[1:])
        return out.getvalue()


@dataclass(frozen=True)
class InputLatent:
    """A `.latent` file (safetensors, `latent_tensor` [batch, channels, height/8, width/8] and
    the `latent_format_version_0` marker) in ComfyUI's input folder, as LoadLatent reads it."""

    width: int
    height: int
    batch: int = 1
    channels: int = 4

    def encode(self, seed: Seed = 0) -> bytes:
        """The file's bytes: seeded values in [-1, 1]."""
        rng = rng_of(seed)
        shape = [self.batch, self.channels, self.height // 8, self.width // 8]
        count = shape[0] * shape[1] * shape[2] * shape[3]
        data = struct.pack(f"<{count}f", *(rng.uniform(-1, 1) for _ in range(count)))
        header = {
            "latent_tensor": {"dtype": "F32", "shape": shape, "data_offsets": [0, len(data)]},
            "latent_format_version_0": {
                "dtype": "F32",
                "shape": [0],
                "data_offsets": [len(data), len(data)],
            },
        }
        raw = json.dumps(header, separators=(",", ":")).encode()
        raw += b" " * (-len(raw) % 8)
        return struct.pack("<Q", len(raw)) + raw + data


InputFile = InputImage | InputLatent


def _noise(rng: random.Random, mode: str, width: int, height: int) -> Image.Image:
    return Image.frombytes(mode, (width, height), rng.randbytes(width * height * len(mode)))
