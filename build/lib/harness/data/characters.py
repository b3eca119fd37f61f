"""Characters with names, roles, traits and a one-paragraph description."""

from __future__ import annotations

from dataclasses import dataclass

from . import _words
from ._rng import Seed, rng_of

__all__ = ["Character", "characters"]


@dataclass(frozen=True)
class Character:
    """One character; `id` is a stable slug of the name."""

    id: str
    name: str
    role: str
    age: int
    traits: tuple[str, ...]
    description: str


def characters(seed: Seed = 0, count: int = 5) -> list[Character]:
    """`count` characters with distinct names (first name, plus a surname past the first
    names' number), each described in one sentence built from its role and traits."""
    if not 0 <= count <= len(_words.FIRST_NAMES) * len(_words.LAST_NAMES):
        raise ValueError(
            f"count must be 0..{len(_words.FIRST_NAMES) * len(_words.LAST_NAMES)}, not {count}"
        )
    rng = rng_of(seed)
    pairs = [(f, last) for f in _words.FIRST_NAMES for last in _words.LAST_NAMES]
    chosen = rng.sample(pairs, count)
    cast = []
    for first, last in chosen:
        name = f"{first} {last}"
        role = rng.choice(_words.ROLES)
        traits = tuple(rng.sample(_words.TRAITS, rng.randint(1, 3)))
        age = rng.randint(8, 90)
        place = f"{rng.choice(_words.ADJECTIVES)} {rng.choice(_words.NOUNS)}"
        description = f"{name} is a {', '.join(traits)} {role} of {age} who lives near the {place}."
        cast.append(Character(name.lower().replace(" ", "-"), name, role, age, traits, description))
    return cast
