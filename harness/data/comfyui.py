"""ComfyUI API-format graphs built from an `object_info` document: valid ones of graded size,
and invalid ones that break exactly one rule and name the error ComfyUI answers with.

    info = mock_object_info()                     # or fetch_object_info("http://127.0.0.1:8188")
    graph = comfyui_graph(info, preset="medium", seed=7)
    httpx.post(f"{url}/prompt", json={"prompt": graph.prompt})
    graph.outputs     # the images each output node will produce: folder, batch, width, height

    bad = invalid_comfyui_graph(info, rule="cycle", seed=7)
    bad.error_type, bad.node_id, bad.node_error_type

Loaders (LoadImage, LoadImageMask, LoadImageOutput, LoadLatent) join a graph when the
generator knows the files they may name: upload each file's `encode()` bytes first, then

    files = {"harness_a.png": InputImage(96, 64, frames=2, alpha=True)}
    graph = comfyui_graph(fetch_object_info(url), "medium", seed=7, files=files)
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ._comfyui_build import Builder, Built
from ._comfyui_catalog import Catalog, ObjectInfoError
from ._comfyui_files import InputFile, InputImage, InputLatent
from ._comfyui_invalid import BREAKERS, NoSite, break_rule
from ._comfyui_nodes import Limits, Unfit
from ._mocks import mock_attribute
from ._rng import Seed, rng_of

__all__ = [
    "INVALID_RULES",
    "PRESETS",
    "Catalog",
    "ComfyGraph",
    "GraphPreset",
    "ImageOutput",
    "InputFile",
    "InputImage",
    "InputLatent",
    "InvalidGraph",
    "LatentOutput",
    "ObjectInfoError",
    "TextOutput",
    "catalog",
    "comfyui_graph",
    "fetch_object_info",
    "invalid_comfyui_graph",
    "mock_object_info",
]

INVALID_RULES: tuple[str, ...] = tuple(BREAKERS)
ATTEMPTS = 50  # valid graphs tried before a rule is declared unbreakable for this object_info
REDRAWS = 200  # structures drawn before a preset is declared unfillable for this object_info


@dataclass(frozen=True)
class GraphPreset:
    """How big a graph is: node count, sampler steps, image side (pixels), batch size, and
    how many sampler nodes (classes with a `steps` input) it has at least."""

    name: str
    nodes: tuple[int, int]
    steps: tuple[int, int]
    size: tuple[int, int]
    batch: int
    samplers: int = 1

    def limits(self) -> Limits:
        """The bounds the builder keeps values in."""
        return Limits(self.size[0], self.size[1], self.batch, self.steps[0], self.steps[1])


PRESETS: dict[str, GraphPreset] = {
    "simple": GraphPreset("simple", nodes=(6, 8), steps=(1, 20), size=(64, 512), batch=1),
    "medium": GraphPreset("medium", nodes=(10, 20), steps=(20, 50), size=(256, 768), batch=2),
    "complex": GraphPreset(
        "complex", nodes=(25, 50), steps=(50, 150), size=(512, 1024), batch=4, samplers=2
    ),
}


@dataclass(frozen=True)
class ImageOutput:
    """The images one output node will produce. `folder`: "output" (SaveImage), "temp"
    (PreviewImage) or "websocket" (SaveImageWebsocket: binary frames, nothing in /history).
    `animated`: the batch is one file of `batch` frames (SaveAnimatedPNG, SaveAnimatedWEBP)."""

    node_id: str
    class_type: str
    folder: str
    batch: int
    width: int
    height: int
    channels: int = 3
    animated: bool = False

    @property
    def files(self) -> int:
        """How many entries the node's /history `images` list has."""
        return 1 if self.animated else self.batch


@dataclass(frozen=True)
class LatentOutput:
    """A SaveLatent node's file: `latent_tensor` of shape [batch, channels, height, width]
    (latent cells: pixels / 8), one /history `latents` entry in the output folder."""

    node_id: str
    shape: tuple[int, int, int, int]


@dataclass(frozen=True)
class TextOutput:
    """A PreviewAny node's /history `text`: known for strings, numbers and booleans; None for
    a tensor, whose torch repr the graph does not predict."""

    node_id: str
    text: str | None


@dataclass(frozen=True)
class ComfyGraph:
    """A valid API-format graph (`prompt`), what its output nodes will produce (images,
    latents, text previews) and its total sampler steps."""

    prompt: dict[str, dict[str, Any]]
    preset: str
    outputs: tuple[ImageOutput, ...]
    steps: int
    latents: tuple[LatentOutput, ...] = ()
    texts: tuple[TextOutput, ...] = ()

    def __len__(self) -> int:
        return len(self.prompt)

    def class_types(self) -> list[str]:
        """The class_type of each node, in node order."""
        return [node["class_type"] for node in self.prompt.values()]


@dataclass(frozen=True)
class InvalidGraph:
    """A graph with one rule broken. `error_type` is POST /prompt's `error.type`;
    `node_error_type` is `node_errors[node_id].errors[0].type` when the fault is one node's
    (None for a cycle, an unknown or missing class_type, or no output node)."""

    prompt: dict[str, dict[str, Any]]
    rule: str
    error_type: str
    node_id: str | None
    node_error_type: str | None
    valid: ComfyGraph


def catalog(
    object_info: Mapping[str, Any] | Catalog,
    allow_unknown: bool = False,
    files: Mapping[str, InputFile] | None = None,
) -> Catalog:
    """The usable node classes of `object_info` (pass the result on to skip re-reading it).
    Classes without a known behaviour (see harness/data/_comfyui_nodes.py) are left out unless
    `allow_unknown`: their outputs' shapes are then undeclared and their runs unchecked.
    `files`: the input folder's files the loaders may name, by name (those a loader's combo
    lists, or any for LoadImageOutput); without them the loaders are left out."""
    if isinstance(object_info, Catalog):
        return object_info
    return Catalog(object_info, allow_unknown, files)


def preset_of(preset: str | GraphPreset) -> GraphPreset:
    if isinstance(preset, GraphPreset):
        return preset
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: use one of {', '.join(PRESETS)}")
    return PRESETS[preset]


def comfyui_graph(
    object_info: Mapping[str, Any] | Catalog,
    preset: str | GraphPreset = "simple",
    seed: Seed = 0,
    files: Mapping[str, InputFile] | None = None,
) -> ComfyGraph:
    """A valid graph: every required input filled in range or linked to an output of its type,
    at least one output node, no cycle, every node upstream of an output. A structure whose
    values cannot stay inside the preset (batches that do not broadcast) is redrawn."""
    nodes = catalog(object_info, files=files)
    chosen = preset_of(preset)
    rng = rng_of(seed)
    for _ in range(REDRAWS):
        graph = draw_graph(nodes, chosen, rng)
        if graph is not None:
            return graph
    raise ObjectInfoError(
        f"no {chosen.name} graph of this object_info stays inside the preset ({REDRAWS} drawn): "
        "widen its sizes or batch"
    )


def draw_graph(nodes: Catalog, preset: GraphPreset, rng: random.Random) -> ComfyGraph | None:
    """One structure drawn and filled from `rng`; None when its values cannot stay inside
    the preset (the strategies reject such a draw, so shrinking only sees whole graphs)."""
    builder = Builder(rng, nodes, preset.limits(), preset.samplers)
    builder.grow(rng.randint(*preset.nodes))
    try:
        return _graph(builder.fill(), preset.name)
    except Unfit:
        return None


def _graph(built: Built, preset: str) -> ComfyGraph:
    outputs = tuple(
        ImageOutput(
            node_id,
            built.prompt[node_id]["class_type"],
            folder,
            shape.batch,
            shape.width,
            shape.height,
            shape.channels,
            animated,
        )
        for node_id, (shape, folder, animated) in built.images.items()
    )
    latents = tuple(
        LatentOutput(node_id, (s.batch, s.channels, s.height, s.width))
        for node_id, s in built.latents.items()
    )
    texts = tuple(TextOutput(node_id, text) for node_id, text in built.texts.items())
    return ComfyGraph(built.prompt, preset, outputs, built.steps, latents, texts)


def invalid_comfyui_graph(
    object_info: Mapping[str, Any] | Catalog,
    rule: str | None = None,
    preset: str | GraphPreset = "simple",
    seed: Seed = 0,
    files: Mapping[str, InputFile] | None = None,
) -> InvalidGraph:
    """A graph breaking exactly `rule` (one of INVALID_RULES; drawn when None)."""
    if rule is not None and rule not in BREAKERS:
        raise ValueError(f"unknown rule {rule!r}: use one of {', '.join(BREAKERS)}")
    nodes = catalog(object_info, files=files)
    rng = rng_of(seed)
    chosen = rule if rule is not None else rng.choice(INVALID_RULES)
    for _ in range(ATTEMPTS):
        valid = comfyui_graph(nodes, preset, rng)
        try:
            prompt, (error, node_id, node_error) = break_rule(valid.prompt, nodes, chosen, rng)
        except NoSite:
            continue
        return InvalidGraph(prompt, chosen, error, node_id, node_error, valid)
    raise ObjectInfoError(
        f"no {preset_of(preset).name} graph of this object_info can break {chosen!r} alone "
        f"({ATTEMPTS} tried): choose another rule or preset"
    )


def fetch_object_info(url: str, timeout: float = 10.0, **client: Any) -> dict[str, Any]:
    """GET {url}/object_info from a running ComfyUI (extra keyword arguments go to httpx)."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/object_info", timeout=timeout, **client)
        response.raise_for_status()
        info: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ObjectInfoError(
            f"cannot read {url}/object_info ({exc}): is ComfyUI up there?"
        ) from None
    return info


def mock_object_info(input_files: tuple[str, ...] = ()) -> dict[str, Any]:
    """The ComfyUI mock's /object_info, as it answers a namespace holding `input_files`."""
    object_info_for = mock_attribute(
        "harness.mocks.comfyui._nodes", "object_info_for", "mock_object_info()"
    )
    info: dict[str, Any] = object_info_for(list(input_files))
    return info
