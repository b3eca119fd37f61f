"""Deterministic mock images (Pillow) and ComfyUI-style file naming."""

from __future__ import annotations

import io
import json
import os
import random
import re
import struct
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps
from PIL.PngImagePlugin import PngInfo

# protocol.py BinaryEventTypes: each binary frame starts with a 4-byte big-endian event
PREVIEW_IMAGE = 1  # then a 4-byte format (1 JPEG, 2 PNG) and the image
TEXT = 3  # then a 4-byte node id length, the node id and UTF-8 text
PREVIEW_IMAGE_WITH_METADATA = 4  # then a 4-byte JSON length, the JSON and the image
FORMAT_JPEG = 1
FORMAT_PNG = 2
MAX_PREVIEW_RESOLUTION = 512  # comfy/cli_args.py --preview-size default


def generate(seed: int, index: int, width: int, height: int) -> Image.Image:
    """RGB image of 8x8 coloured tiles depending only on (seed, index, width, height)."""
    rng = random.Random(f"{seed}:{index}")
    grid = bytes(rng.randrange(256) for _ in range(8 * 8 * 3))
    small = Image.frombytes("RGB", (8, 8), grid)
    return small.resize((max(1, width), max(1, height)), Image.Resampling.NEAREST)


def preview(seed: int, step: int, steps: int, width: int, height: int) -> Image.Image:
    """Latent-sized preview that fades from grey noise towards the final image."""
    final = generate(seed, 0, max(1, width // 8), max(1, height // 8))
    grey = Image.new("RGB", final.size, (128, 128, 128))
    return Image.blend(grey, final, step / max(1, steps))


def png_bytes(
    image: Image.Image, compress_level: int = 1, text: dict[str, str] | None = None
) -> bytes:
    """Encode an image as PNG, with tEXt chunks from `text`."""
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=compress_level, pnginfo=info)
    return buf.getvalue()


def progress_text_frame(node_id: str, text: str) -> bytes:
    """server.py send_progress_text: event 3 (TEXT) for a node."""
    node = node_id.encode()
    return struct.pack(">II", TEXT, len(node)) + node + text.encode()


def sampler_preview(image: Image.Image) -> bytes:
    """A sampler preview as server.py send_image encodes it: latent_preview.py hands over
    ("JPEG", image, 512) and ImageOps.contain fits (also enlarges) it to 512, bilinear."""
    fitted = ImageOps.contain(image, (MAX_PREVIEW_RESOLUTION,) * 2, Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    fitted.save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def preview_frame_encoded(image: bytes, image_type: str = "JPEG") -> bytes:
    """Event 1 (PREVIEW_IMAGE), format 1 (JPEG) or 2 (PNG), then the image: server.py
    send_image, what a client without supports_preview_metadata gets (main.py
    hijack_progress)."""
    fmt = FORMAT_PNG if image_type == "PNG" else FORMAT_JPEG
    return struct.pack(">II", PREVIEW_IMAGE, fmt) + image


def preview_frame_with_metadata(
    image: bytes, metadata: dict[str, Any], image_type: str = "JPEG"
) -> bytes:
    """Event 4 (PREVIEW_IMAGE_WITH_METADATA): server.py send_image_with_metadata adds
    image_type (image/png for a PNG, else image/jpeg) to the node's metadata and sends
    length, JSON, image."""
    mimetype = "image/png" if image_type == "PNG" else "image/jpeg"
    text = json.dumps({**metadata, "image_type": mimetype}).encode()
    return struct.pack(">II", PREVIEW_IMAGE_WITH_METADATA, len(text)) + text + image


def save_path(
    output_dir: Path, filename_prefix: str, width: int, height: int
) -> tuple[Path, str, str, int]:
    """ComfyUI's get_save_image_path: (folder, filename, subfolder, counter)."""
    prefix = filename_prefix.replace("%width%", str(width)).replace("%height%", str(height))
    subfolder = os.path.dirname(os.path.normpath(prefix))
    filename = os.path.basename(os.path.normpath(prefix))
    folder = output_dir / subfolder
    base = os.path.abspath(output_dir)
    full = os.path.abspath(folder)
    common = os.path.commonpath((base, full))
    if common != base:
        # folder_paths.get_save_image_path raises a bare Exception with these lines
        raise Exception(
            "**** ERROR: Saving image outside the output folder is not allowed."
            f"\n full_output_folder: {full}\n         output_dir: {base}"
            f"\n         commonpath: {common}"
        )
    counter = 1
    if folder.is_dir():
        pattern = re.compile(rf"^{re.escape(filename)}_(\d+)_?\.")
        for existing in os.listdir(folder):
            m = pattern.match(existing)
            if m:
                counter = max(counter, int(m.group(1)) + 1)
    return folder, filename, subfolder, counter


def save_images(
    images: list[Image.Image],
    output_dir: Path,
    filename_prefix: str,
    kind: str,
    text: dict[str, str] | None = None,
    compress_level: int = 1,
) -> list[dict[str, str]]:
    """Save images as <prefix>_<counter:05>_.png; return ComfyUI `images` entries."""
    if not images:
        return []
    width, height = images[0].size
    folder, filename, subfolder, counter = save_path(output_dir, filename_prefix, width, height)
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for image in images:
        name = f"{filename}_{counter:05}_.png"
        (folder / name).write_bytes(png_bytes(image, compress_level, text))
        results.append({"filename": name, "subfolder": subfolder, "type": kind})
        counter += 1
    return results
