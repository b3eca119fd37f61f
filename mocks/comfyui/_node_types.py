"""The node interface and its registry: `Node`, `register` and the NODES table.

One small class per class_type (its name) implements a node; the node modules
(`_core_nodes`, `_image_nodes`, `_latent_nodes`, `_output_nodes`) import this module and
register into NODES, and `_node_catalog` imports them all (this module imports none of them).

Values are shaped as ComfyUI's tensors (numpy here): IMAGE float32 [B,H,W,C] in 0..1,
MASK float32 [B,H,W], LATENT {"samples": [B,4,H/8,W/8]}. Each class names the file of
Comfy-Org/ComfyUI v0.3.77 it follows; input specs come from object_info.json.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from PIL import Image

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

    async def progress(
        self, value: int, total: int, preview: tuple[str, bytes] | None = None
    ) -> None:
        """comfy.utils.ProgressBar.update_absolute through main.py's hook: progress_state,
        `progress` and the preview ("PNG" or "JPEG", its encoded bytes), if any."""

    async def send_bytes(self, data: bytes) -> None:
        """A binary frame to the prompt's client."""

    async def broadcast_bytes(self, data: bytes) -> None:
        """A binary frame to every client (server.py send_sync with sid None)."""


class Node:
    """One node class: `run` gets the resolved inputs and returns (outputs, ui)."""

    class_type: ClassVar[str]  # the class's own name, set by `register`
    validated_inputs: ClassVar[tuple[str, ...]] = ()  # VALIDATE_INPUTS' arguments

    async def run(self, ctx: Context, **inputs: Any) -> Result:
        # off the event loop: as in ComfyUI, whose prompt worker is a thread of its own, the
        # HTTP API keeps answering (POST /prompt, /queue) while a graph computes
        return await asyncio.to_thread(self.compute, **inputs), None

    def compute(self, *args: Any, **inputs: Any) -> tuple[Any, ...]:
        """The outputs of a node without side effects (subclasses name their inputs)."""
        raise NotImplementedError

    @classmethod
    def is_changed(cls, root: Path, inputs: dict[str, Any]) -> Any:
        """IS_CHANGED: part of the cache key; None for pure nodes."""
        return None

    @classmethod
    def validate(cls, root: Path, inputs: dict[str, Any]) -> dict[str, str]:
        """VALIDATE_INPUTS: {input name: reason} for each failed check; {} when valid."""
        return {}


NODES: dict[str, type[Node]] = {}


def register(cls: type[Node]) -> type[Node]:
    """Add a node class to NODES under its name, which becomes its class_type."""
    cls.class_type = cls.__name__
    NODES[cls.class_type] = cls
    return cls


def to_images(pils: list[Image.Image]) -> np.ndarray:
    """PIL images (same size) to an IMAGE batch."""
    return np.stack([np.asarray(p.convert("RGB"), dtype=np.float32) / 255.0 for p in pils])


def to_pils(images: np.ndarray) -> list[Image.Image]:
    """An IMAGE batch to PIL images (ComfyUI's clip(255 * i, 0, 255))."""
    arr = np.clip(images * 255.0, 0, 255).astype(np.uint8)
    return [Image.fromarray(a[..., :3] if a.shape[-1] != 4 else a) for a in arr]


def annotated_path(root: Path, name: str) -> Path:
    """folder_paths.get_annotated_filepath: a " [output]", " [input]" or " [temp]" suffix
    picks the folder, input otherwise."""
    for kind in ("output", "input", "temp"):
        if name.endswith(f"[{kind}]"):
            return root / kind / name[: -len(kind) - 3]
    return root / "input" / name


def file_hash(root: Path, name: Any) -> str | None:
    """IS_CHANGED of the file loaders: the file's sha256."""
    path = annotated_path(root, str(name))
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


class FileNode(Node):
    """A node reading one file named by an input (VALIDATE_INPUTS checks it exists)."""

    file_input: ClassVar[str] = "image"
    validated_inputs: ClassVar[tuple[str, ...]] = ("image",)
    invalid_message: ClassVar[str] = "Invalid image file: {}"

    @classmethod
    def validate(cls, root: Path, inputs: dict[str, Any]) -> dict[str, str]:
        """folder_paths.exists_annotated_filepath, else the release's message."""
        name = str(inputs.get(cls.file_input))
        if annotated_path(root, name).exists():
            return {}
        return {cls.file_input: cls.invalid_message.format(name)}

    @classmethod
    def is_changed(cls, root: Path, inputs: dict[str, Any]) -> Any:
        return file_hash(root, inputs.get(cls.file_input))
