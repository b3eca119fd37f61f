"""Node definitions of the mock, read from the bundled object_info.json."""

from __future__ import annotations

import copy
import json
import mimetypes
from functools import lru_cache
from pathlib import Path
from typing import Any

OBJECT_INFO_PATH = Path(__file__).with_name("object_info.json")


@lru_cache(maxsize=1)
def object_info() -> dict[str, Any]:
    """The bundled /object_info document (do not mutate; use `object_info_for`)."""
    data: dict[str, Any] = json.loads(OBJECT_INFO_PATH.read_text())
    return data


def _is_image(name: str) -> bool:
    """folder_paths.filter_files_content_types(files, ["image"]): by guessed MIME type."""
    kind = mimetypes.guess_type(name, strict=False)[0]
    return kind is not None and kind.split("/")[0] == "image"


def object_info_for(input_files: list[str]) -> dict[str, Any]:
    """/object_info with the file combos listing the input folder's top-level files:
    images for LoadImage, all for LoadImageMask, `.latent` for LoadLatent (nodes.py
    INPUT_TYPES, os.listdir(input_dir), files only)."""
    info = copy.deepcopy(object_info())
    top = sorted(name for name in input_files if "/" not in name)
    info["LoadImage"]["input"]["required"]["image"][0] = [n for n in top if _is_image(n)]
    info["LoadImageMask"]["input"]["required"]["image"][0] = top
    info["LoadLatent"]["input"]["required"]["latent"][0] = [n for n in top if n.endswith(".latent")]
    return info


def checkpoints() -> list[str]:
    """Checkpoint names offered by CheckpointLoaderSimple."""
    names: list[str] = object_info()["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]
    return list(names)


def is_output_node(class_type: str) -> bool:
    """Whether a node class is an output node (OUTPUT_NODE)."""
    return bool(object_info()[class_type]["output_node"])


def return_types(class_type: str) -> tuple[str, ...] | list[str]:
    """RETURN_TYPES of a node class: a tuple on a v1 node class (nodes.py), a list on a
    comfy_api v3 one (comfy_api/latest/_io.py GET_SCHEMA builds `output` as a list; its
    object_info entry has `api_node`), so a bad slot's IndexError reads "tuple index out of
    range" or "list index out of range" as in the release."""
    spec = object_info()[class_type]
    output: list[str] = spec["output"]
    return list(output) if "api_node" in spec else tuple(output)


def input_specs(
    class_type: str, info: dict[str, Any] | None = None
) -> list[tuple[str, str, Any, dict[str, Any]]]:
    """(name, category, input_type, extra_info) for required then optional inputs."""
    spec = (info or object_info())[class_type]["input"]
    out = []
    for category in ("required", "optional"):
        for name, conf in spec.get(category, {}).items():
            extra = conf[1] if len(conf) > 1 else {}
            out.append((name, category, conf[0], extra))
    return out
