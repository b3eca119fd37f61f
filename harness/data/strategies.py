"""Hypothesis strategies over the same generators: each draws its choices through hypothesis'
recording `random.Random`, so a failing example shrinks (fewer nodes, smaller values, the first
options), and a test's database-less, derandomized run is the same everywhere.

    @given(comfyui_graphs(mock_object_info(), preset="medium"))
    def test_accepts(graph): ...
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .._optional import require
from . import comfyui, embeddings
from .cablecast import CABLECAST_EPOCH, cablecast_dataset
from .characters import Character, characters
from .comfyui import Catalog, ComfyGraph, GraphPreset, InputFile, InvalidGraph
from .scripts import DEFAULT_BOUNDS, Episode, ScriptBounds, episode

require("hypothesis", "data", "harness.data.strategies")  # else one line naming the extra
from hypothesis import reject  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

__all__ = [
    "cablecast_datasets",
    "casts",
    "comfyui_graphs",
    "embedding_sets",
    "episode_scripts",
    "invalid_comfyui_graphs",
]

T = TypeVar("T")


def _recorded(build: Callable[[random.Random], T]) -> st.SearchStrategy[T]:
    @st.composite
    def strategy(draw: st.DrawFn) -> T:
        return build(draw(st.randoms(use_true_random=False)))

    return strategy()


def comfyui_graphs(
    object_info: Mapping[str, Any] | Catalog,
    preset: str | GraphPreset = "simple",
    allow_unknown: bool = False,
    files: Mapping[str, InputFile] | None = None,
) -> st.SearchStrategy[ComfyGraph]:
    """Valid graphs of `preset` (see `harness.data.comfyui.comfyui_graph`)."""
    nodes = comfyui.catalog(object_info, allow_unknown, files)
    comfyui.comfyui_graph(nodes, preset, 0)  # a bad preset fails here, not inside a test
    chosen = comfyui.preset_of(preset)

    @st.composite
    def graphs(draw: st.DrawFn) -> ComfyGraph:
        graph = comfyui.draw_graph(nodes, chosen, draw(st.randoms(use_true_random=False)))
        if graph is None:
            reject()  # a redraw inside one example would defeat shrinking
        return graph

    return graphs()


def invalid_comfyui_graphs(
    object_info: Mapping[str, Any] | Catalog,
    rule: str | None = None,
    preset: str | GraphPreset = "simple",
    files: Mapping[str, InputFile] | None = None,
) -> st.SearchStrategy[InvalidGraph]:
    """Graphs breaking `rule` (any of INVALID_RULES when None) and the error they get."""
    nodes = comfyui.catalog(object_info, files=files)
    return _recorded(lambda rng: comfyui.invalid_comfyui_graph(nodes, rule, preset, rng))


def casts(min_size: int = 1, max_size: int = 8) -> st.SearchStrategy[list[Character]]:
    """Lists of characters with distinct names."""
    return _recorded(lambda rng: characters(rng, rng.randint(min_size, max_size)))


def episode_scripts(bounds: ScriptBounds = DEFAULT_BOUNDS) -> st.SearchStrategy[Episode]:
    """Episodes with their own cast, inside `bounds`."""
    return _recorded(lambda rng: episode(rng, bounds=bounds))


def embedding_sets(
    kind: str = "clusters", dimension: int = 32, max_groups: int = 6, max_size: int = 5
) -> st.SearchStrategy[embeddings.EmbeddingSet]:
    """Embedding sets of `kind` ("clusters", "near_duplicates", "orthogonal"): the structure
    (group count and size, spread) is drawn by hypothesis, the noise from a drawn seed."""
    if kind not in ("clusters", "near_duplicates", "orthogonal"):
        raise ValueError(f"unknown kind {kind!r}: clusters, near_duplicates or orthogonal")
    groups = st.integers(1, min(max_groups, dimension))
    seeds = st.integers(0, 2**32 - 1)
    if kind == "orthogonal":
        return st.builds(embeddings.orthogonal_embeddings, seeds, st.just(dimension), groups)
    spread = st.floats(0.0, embeddings.MAX_SPREAD if kind == "clusters" else 0.02)
    size = st.integers(1, max_size)
    if kind == "clusters":
        return st.builds(
            embeddings.clustered_embeddings, seeds, st.just(dimension), groups, size, spread
        )
    return st.builds(
        embeddings.near_duplicate_embeddings, seeds, st.just(dimension), groups, size, spread
    )


def cablecast_datasets(
    max_shows: int = 20, max_channels: int = 3, max_days: int = 7, max_items_per_day: int = 6
) -> st.SearchStrategy[dict[str, list[dict[str, Any]]]]:
    """Cablecast datasets from the mock's generator, sizes drawn up to the maxima."""

    def build(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
        return cablecast_dataset(
            rng,
            shows=rng.randint(0, max_shows),
            channels=rng.randint(1, max_channels),
            days=rng.randint(0, max_days),
            items_per_day=rng.randint(0, max_items_per_day),
            start=CABLECAST_EPOCH,
            vod_fraction=rng.random(),
        )

    return _recorded(build)
