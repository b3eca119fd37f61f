"""Episode scripts: a title, a logline, scenes with headings and bounded dialogue."""

from __future__ import annotations

from dataclasses import dataclass

from . import _words
from ._rng import Seed, rng_of, words
from .characters import Character, characters

__all__ = ["DEFAULT_BOUNDS", "Episode", "Line", "Scene", "ScriptBounds", "episode", "episodes"]

_DIALOGUE = _words.NOUNS + _words.ADJECTIVES + _words.VERBS


@dataclass(frozen=True)
class ScriptBounds:
    """Inclusive (low, high) bounds: scenes per episode, lines per scene, words per line."""

    scenes: tuple[int, int] = (1, 6)
    lines: tuple[int, int] = (1, 8)
    words: tuple[int, int] = (2, 20)

    def __post_init__(self) -> None:
        for name in ("scenes", "lines", "words"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name} bounds must be 0 <= low <= high, not {(low, high)}")


DEFAULT_BOUNDS = ScriptBounds()


@dataclass(frozen=True)
class Line:
    """A line of dialogue."""

    character: str
    text: str


@dataclass(frozen=True)
class Scene:
    """A scene: its number, slug line (INT./EXT. PLACE - TIME), action and dialogue."""

    number: int
    heading: str
    action: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Episode:
    """An episode: number, title, logline, cast (names) and scenes."""

    number: int
    title: str
    logline: str
    cast: tuple[str, ...]
    scenes: tuple[Scene, ...]

    def text(self) -> str:
        """The episode as screenplay text (Fountain-style headings and character cues)."""
        out = [f"Title: {self.title}", ""]
        for scene in self.scenes:
            out += [scene.heading, "", scene.action, ""]
            for line in scene.lines:
                out += [line.character.upper(), line.text, ""]
        return "\n".join(out)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def episode(
    seed: Seed = 0,
    cast: list[Character] | None = None,
    number: int = 1,
    bounds: ScriptBounds = DEFAULT_BOUNDS,
) -> Episode:
    """One episode whose dialogue is spoken by `cast` (drawn when None), inside `bounds`."""
    rng = rng_of(seed)
    people = cast if cast is not None else characters(rng, rng.randint(2, 5))
    if not people:
        raise ValueError("an episode needs at least one character in its cast")
    names = [c.name for c in people]
    title = f"The {rng.choice(_words.ADJECTIVES).title()} {rng.choice(_words.NOUNS).title()}"
    hero = rng.choice(names)
    logline = f"{hero} {rng.choice(_words.VERBS)} the {rng.choice(_words.NOUNS)}."
    scenes = []
    for index in range(1, rng.randint(*bounds.scenes) + 1):
        place = f"{rng.choice(_words.ADJECTIVES)} {rng.choice(_words.NOUNS)}".upper()
        heading = f"{rng.choice(('INT.', 'EXT.'))} {place} - {rng.choice(_words.TIMES)}"
        action = _sentence(
            f"{rng.choice(names)} {rng.choice(_words.VERBS)} the {rng.choice(_words.NOUNS)}"
        )
        lines = tuple(
            Line(rng.choice(names), _sentence(words(rng, _DIALOGUE, *bounds.words)))
            for _ in range(rng.randint(*bounds.lines))
        )
        scenes.append(Scene(index, heading, action, lines))
    return Episode(number, title, logline, tuple(names), tuple(scenes))


def episodes(
    seed: Seed = 0,
    count: int = 3,
    cast: list[Character] | None = None,
    bounds: ScriptBounds = DEFAULT_BOUNDS,
) -> list[Episode]:
    """`count` episodes numbered from 1, sharing one cast."""
    rng = rng_of(seed)
    people = cast if cast is not None else characters(rng, rng.randint(2, 6))
    return [episode(rng, people, n, bounds) for n in range(1, count + 1)]
