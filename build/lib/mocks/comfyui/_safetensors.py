"""The safetensors file format (little-endian header length, JSON header, raw tensors) for
float32 numpy arrays: what comfy/utils.py save_torch_file writes for SaveLatent."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "F64": np.float64}


def dump(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """A safetensors document; the header is space-padded to 8 bytes as the library does."""
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs, offset = [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], np.float32).tobytes()
        shape = list(tensors[name].shape)
        header[name] = {
            "dtype": "F32",
            "shape": shape,
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def load(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as float32 (F32/F16/F64 stored)."""
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    body = raw[8 + length :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = DTYPES.get(info["dtype"])
        start, end = info["data_offsets"]
        if dtype is None:  # bfloat16: the high half of a float32
            halves = np.frombuffer(body[start:end], np.uint16).astype(np.uint32) << 16
            values = halves.view(np.float32)
        else:
            values = np.frombuffer(body[start:end], dtype)
        out[name] = values.astype(np.float32).reshape(info["shape"])
    return out
