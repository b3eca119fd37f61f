"""Scripts, characters, embeddings and Cablecast data: bounds, structure, determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings

from harness.data import (
    CABLECAST_EPOCH,
    EmbeddingSet,
    Episode,
    ScriptBounds,
    cablecast_dataset,
    characters,
    clustered_embeddings,
    episode,
    episodes,
    near_duplicate_embeddings,
    orthogonal_embeddings,
)
from harness.data.strategies import cablecast_datasets, casts, embedding_sets, episode_scripts

BOUNDED = settings(max_examples=40, deadline=None, derandomize=True, database=None)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
TIGHT = ScriptBounds(scenes=(2, 3), lines=(1, 4), words=(3, 9))


def check_bounds(ep: Episode, bounds: ScriptBounds) -> None:
    assert bounds.scenes[0] <= len(ep.scenes) <= bounds.scenes[1]
    for scene in ep.scenes:
        assert bounds.lines[0] <= len(scene.lines) <= bounds.lines[1]
        assert scene.heading.split(" ", 1)[0] in ("INT.", "EXT.")
        for line in scene.lines:
            assert line.character in ep.cast
            assert bounds.words[0] <= len(line.text.rstrip(".").split()) <= bounds.words[1]
    assert ep.text().startswith(f"Title: {ep.title}")


@BOUNDED
@given(episode_scripts(TIGHT))
def test_episodes_stay_inside_their_bounds(ep: Episode) -> None:
    check_bounds(ep, TIGHT)


@BOUNDED
@given(casts(1, 12))
def test_casts_have_distinct_names_and_descriptions(cast: list) -> None:
    assert 1 <= len(cast) <= 12
    assert len({c.name for c in cast}) == len(cast) == len({c.id for c in cast})
    for c in cast:
        assert c.description.startswith(c.name) and c.role in c.description


def test_episodes_share_their_cast() -> None:
    cast = characters(5, count=3)
    season = episodes(5, count=4, cast=cast, bounds=TIGHT)
    assert [e.number for e in season] == [1, 2, 3, 4]
    assert all(set(e.cast) == {c.name for c in cast} for e in season)
    for e in season:
        check_bounds(e, TIGHT)
    with pytest.raises(ValueError, match="scenes bounds"):
        ScriptBounds(scenes=(3, 1))
    with pytest.raises(ValueError, match="at least one character"):
        episode(1, cast=[])


def numpy_ranking(data: EmbeddingSet, item: str) -> list[str]:
    """The order a cosine similarity search returns, computed with numpy."""
    matrix = np.array(data.vectors)
    query = matrix[data.ids.index(item)]
    scores = matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query))
    return [data.ids[i] for i in np.argsort(-scores, kind="stable")]


def check_groups_rank_first(data: EmbeddingSet) -> None:
    assert np.allclose(np.linalg.norm(np.array(data.vectors), axis=1), 1.0)
    for item in data.ids:
        group = data.group_of(item)
        ranked = numpy_ranking(data, item)
        assert set(ranked[: len(group)]) == set(group), (item, ranked)
        assert set(data.nearest(data.vector(item), len(group))) == set(group)


@BOUNDED
@given(embedding_sets("clusters", dimension=24))
def test_clusters_rank_their_members_first(data: EmbeddingSet) -> None:
    check_groups_rank_first(data)
    matrix = np.array(data.vectors)
    cos = matrix @ matrix.T
    for i, a in enumerate(data.ids):
        for j, b in enumerate(data.ids):
            same = data.group_of(a) == data.group_of(b)
            assert (
                cos[i, j] >= data.min_within - 1e-9 if same else cos[i, j] <= data.max_across + 1e-9
            )


@BOUNDED
@given(embedding_sets("near_duplicates", dimension=48))
def test_near_duplicates_find_their_original(data: EmbeddingSet) -> None:
    check_groups_rank_first(data)
    assert data.min_within > 0.9


@BOUNDED
@given(embedding_sets("orthogonal", dimension=16))
def test_orthogonal_sets_are_orthogonal(data: EmbeddingSet) -> None:
    matrix = np.array(data.vectors)
    assert np.allclose(matrix @ matrix.T, np.eye(len(data.ids)), atol=1e-9)


def test_embedding_sizes_and_bad_input() -> None:
    data = clustered_embeddings(1, dimension=384, clusters=5, size=6, spread=0.15)
    assert len(data.ids) == 30 and all(len(v) == 384 for v in data.vectors)
    check_groups_rank_first(data)
    assert len(near_duplicate_embeddings(1, 8, originals=3, copies=2).groups[0]) == 3
    with pytest.raises(ValueError, match="spread must be in"):
        clustered_embeddings(1, spread=0.5)
    with pytest.raises(ValueError, match="orthogonal directions"):
        orthogonal_embeddings(1, dimension=4, count=5)


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(cablecast_datasets(max_shows=12, max_days=3))
def test_cablecast_datasets_are_consistent(data: dict) -> None:
    show_ids = {s["id"] for s in data["shows"]}
    assert {i["show"] for i in data["scheduleItems"]} <= show_ids
    assert {v for s in data["shows"] for v in s["vods"]} == {v["id"] for v in data["vods"]}
    assert all(i["runDateTime"] >= CABLECAST_EPOCH.isoformat() for i in data["scheduleItems"])


def test_cablecast_dataset_is_the_mocks_generator() -> None:
    from harness.mocks.cablecast.data import generate

    day = date(2026, 3, 2)
    assert cablecast_dataset(9, shows=10, start=day) == generate(9, shows=10, start=day)


def test_same_seed_same_data_in_another_process() -> None:
    code = (
        "import json; from dataclasses import asdict; import harness.data as d; print(json.dumps("
        "[asdict(d.episode(3)), [asdict(c) for c in d.characters(3, 6)], "
        "asdict(d.clustered_embeddings(3, 16)), d.cablecast_dataset(3, shows=5)], sort_keys=True))"
    )
    here = json.dumps(
        [
            asdict(episode(3)),
            [asdict(c) for c in characters(3, 6)],
            asdict(clustered_embeddings(3, 16)),
            cablecast_dataset(3, shows=5),
        ],
        sort_keys=True,
    )
    env = {**os.environ, "PYTHONHASHSEED": "999", "PYTHONPATH": ROOT}
    there = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert there == here
    assert asdict(episode(4)) != asdict(episode(3))
