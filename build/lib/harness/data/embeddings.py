"""Unit embeddings with a similarity structure known in advance.

    data = clustered_embeddings(seed=3, dimension=64, clusters=4, size=5)
    collection.add(ids=list(data.ids), embeddings=data.lists())
    hits = collection.query(query_embeddings=[data.vector("c0-1")], n_results=5)
    assert set(hits["ids"][0][1:]) == set(data.group_of("c0-1")) - {"c0-1"}

Groups sit on mutually orthogonal directions and each member is its direction plus noise of
norm at most `spread`; with spread <= MAX_SPREAD, every member is closer (cosine) to each of
its group than to any other vector, so a similarity search must return its group first. The
vectors have norm 1, so L2 distance ranks them as cosine does (Chroma's default space, l2,
and "cosine" agree). Pure Python floats: the same seed gives the same vectors everywhere.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from ._rng import Seed, rng_of

__all__ = [
    "MAX_SPREAD",
    "EmbeddingSet",
    "clustered_embeddings",
    "cosine",
    "near_duplicate_embeddings",
    "orthogonal_embeddings",
]

# cos within a group >= (1-2s-s^2)/(1+s)^2 > (2s+s^2)/(1-s)^2 >= cos across groups for s <= 0.15
MAX_SPREAD = 0.15
Vector = tuple[float, ...]


def cosine(a: Vector, b: Vector) -> float:
    """Cosine similarity of two vectors."""
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b)))


@dataclass(frozen=True)
class EmbeddingSet:
    """Vectors by id, the groups they were built in, and the bound the structure guarantees:
    every pair inside a group has cosine >= `min_within`, every pair across <= `max_across`
    (both up to float rounding)."""

    kind: str
    dimension: int
    ids: tuple[str, ...]
    vectors: tuple[Vector, ...]
    groups: tuple[tuple[str, ...], ...]
    min_within: float
    max_across: float

    def vector(self, item: str) -> Vector:
        """The vector of `item`."""
        return self.vectors[self.ids.index(item)]

    def lists(self) -> list[list[float]]:
        """The vectors as lists (what Chroma's `add(embeddings=...)` takes)."""
        return [list(v) for v in self.vectors]

    def group_of(self, item: str) -> tuple[str, ...]:
        """The ids built in the same group as `item` (itself included)."""
        return next(g for g in self.groups if item in g)

    def nearest(self, query: Vector, k: int) -> list[str]:
        """The `k` ids most similar to `query` by cosine (ties by id): a search's expected hits."""
        ranked = sorted(self.ids, key=lambda i: (-cosine(query, self.vector(i)), i))
        return ranked[:k]


def _gaussian(rng: random.Random, dimension: int) -> list[float]:
    return [rng.gauss(0.0, 1.0) for _ in range(dimension)]


def _unit(v: list[float]) -> Vector:
    norm = math.sqrt(math.fsum(x * x for x in v))
    return tuple(x / norm for x in v)


def _orthonormal(rng: random.Random, count: int, dimension: int) -> list[Vector]:
    """`count` orthonormal random directions (Gram-Schmidt, re-drawn on a degenerate draw)."""
    if not 0 <= count <= dimension:
        raise ValueError(f"at most {dimension} orthogonal directions fit in {dimension} dims")
    basis: list[Vector] = []
    while len(basis) < count:
        v = _gaussian(rng, dimension)
        for b in basis:
            dot = math.fsum(x * y for x, y in zip(v, b, strict=True))
            v = [x - dot * y for x, y in zip(v, b, strict=True)]
        if math.sqrt(math.fsum(x * x for x in v)) > 1e-6:
            basis.append(_unit(v))
    return basis


def _around(rng: random.Random, centre: Vector, spread: float) -> Vector:
    """`centre` plus a random direction scaled to a norm in [0, spread], renormalised."""
    noise = _unit(_gaussian(rng, len(centre)))
    scale = spread * rng.random()
    return _unit([c + scale * n for c, n in zip(centre, noise, strict=True)])


def _grouped(
    kind: str, seed: Seed, dimension: int, groups: int, size: int, spread: float, prefix: str
) -> EmbeddingSet:
    if not 0 <= spread <= MAX_SPREAD:
        raise ValueError(f"spread must be in [0, {MAX_SPREAD}] to keep groups apart, not {spread}")
    if size < 1:
        raise ValueError(f"each group needs at least one member, not {size}")
    rng = rng_of(seed)
    ids: list[str] = []
    vectors: list[Vector] = []
    members: list[tuple[str, ...]] = []
    for g, centre in enumerate(_orthonormal(rng, groups, dimension)):
        names = (f"{prefix}{g}",) if size == 1 else tuple(f"{prefix}{g}-{m}" for m in range(size))
        ids += names
        vectors += [_around(rng, centre, spread) for _ in names]
        members.append(names)
    s = spread
    within = (1 - 2 * s - s * s) / (1 + s) ** 2
    across = (2 * s + s * s) / (1 - s) ** 2 if groups > 1 else -1.0
    return EmbeddingSet(kind, dimension, tuple(ids), tuple(vectors), tuple(members), within, across)


def clustered_embeddings(
    seed: Seed = 0, dimension: int = 64, clusters: int = 3, size: int = 4, spread: float = 0.1
) -> EmbeddingSet:
    """`clusters` groups of `size` vectors around orthogonal centres (ids `c<cluster>-<n>`)."""
    return _grouped("clusters", seed, dimension, clusters, size, spread, "c")


def near_duplicate_embeddings(
    seed: Seed = 0, dimension: int = 64, originals: int = 5, copies: int = 1, noise: float = 0.01
) -> EmbeddingSet:
    """`originals` vectors, each with `copies` near-duplicates within `noise`: ids `d<n>-0` are
    the originals' group, `d<n>-1..` its copies; every copy's nearest neighbour is its group."""
    return _grouped("near_duplicates", seed, dimension, originals, copies + 1, noise, "d")


def orthogonal_embeddings(seed: Seed = 0, dimension: int = 64, count: int = 8) -> EmbeddingSet:
    """`count` mutually orthogonal unit vectors (ids `o<n>`): every cross cosine is ~0."""
    return _grouped("orthogonal", seed, dimension, count, 1, 0.0, "o")
