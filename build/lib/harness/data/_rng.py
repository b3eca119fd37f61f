"""Seeds: every generator takes an int seed or a `random.Random` and draws only from it."""

from __future__ import annotations

import random

Seed = int | random.Random


def rng_of(seed: Seed) -> random.Random:
    """The `random.Random` a generator draws from: `seed` itself, or one seeded with it.

    An int seed gives the same sequence in every process and on every machine (no str hash,
    no set order, no clock). A hypothesis `st.randoms()` instance passes through, so the
    strategy records each choice and can shrink it.
    """
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int or a random.Random, not {type(seed).__name__}")
    return random.Random(seed)


def words(rng: random.Random, vocabulary: tuple[str, ...], low: int, high: int) -> str:
    """Between `low` and `high` words of `vocabulary`, space-separated."""
    return " ".join(rng.choice(vocabulary) for _ in range(rng.randint(low, high)))
