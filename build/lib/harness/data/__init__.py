"""Seeded test data and hypothesis strategies built on the same code.

Every generator takes a seed (int) or a `random.Random` and draws only from it, so the same
seed gives the same data in any process and on any machine; `harness.data.strategies` wraps
each one for hypothesis. ComfyUI graphs (`comfyui`), episode scripts (`scripts`), characters
(`characters`), embeddings with a known similarity structure (`embeddings`) and Cablecast
datasets (`cablecast`).
"""

from ._mocks import MocksMissing
from .cablecast import CABLECAST_EPOCH, cablecast_dataset
from .characters import Character, characters
from .comfyui import (
    INVALID_RULES,
    PRESETS,
    Catalog,
    ComfyGraph,
    GraphPreset,
    ImageOutput,
    InputFile,
    InputImage,
    InputLatent,
    InvalidGraph,
    LatentOutput,
    ObjectInfoError,
    TextOutput,
    catalog,
    comfyui_graph,
    fetch_object_info,
    invalid_comfyui_graph,
    mock_object_info,
)
from .embeddings import (
    MAX_SPREAD,
    EmbeddingSet,
    clustered_embeddings,
    cosine,
    near_duplicate_embeddings,
    orthogonal_embeddings,
)
from .scripts import Episode, Line, Scene, ScriptBounds, episode, episodes

__all__ = [
    "CABLECAST_EPOCH",
    "INVALID_RULES",
    "MAX_SPREAD",
    "PRESETS",
    "Catalog",
    "Character",
    "ComfyGraph",
    "EmbeddingSet",
    "Episode",
    "GraphPreset",
    "ImageOutput",
    "InputFile",
    "InputImage",
    "InputLatent",
    "InvalidGraph",
    "LatentOutput",
    "Line",
    "MocksMissing",
    "ObjectInfoError",
    "Scene",
    "ScriptBounds",
    "TextOutput",
    "cablecast_dataset",
    "catalog",
    "characters",
    "clustered_embeddings",
    "comfyui_graph",
    "cosine",
    "episode",
    "episodes",
    "fetch_object_info",
    "invalid_comfyui_graph",
    "mock_object_info",
    "near_duplicate_embeddings",
    "orthogonal_embeddings",
]
