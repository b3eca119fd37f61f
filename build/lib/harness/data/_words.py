"""Fixed vocabularies (tuples, so their order never depends on hashing)."""

from __future__ import annotations

# fmt: off
ADJECTIVES = (
    "ancient", "bright", "quiet", "stormy", "golden", "hidden", "lonely", "crimson", "silver",
    "frozen", "restless", "gentle", "broken", "distant", "electric", "misty", "wild", "hollow",
)
NOUNS = (
    "harbor", "forest", "tower", "river", "market", "garden", "station", "mountain", "library",
    "bridge", "desert", "lantern", "island", "workshop", "castle", "valley", "orchard", "city",
)
VERBS = (
    "finds", "loses", "follows", "builds", "hides", "remembers", "chases", "opens", "guards",
    "paints", "breaks", "answers", "crosses", "awaits", "carries", "watches",
)
FIRST_NAMES = (
    "Ada", "Bram", "Cleo", "Dario", "Edda", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kira",
    "Leon", "Mira", "Niko", "Odile", "Pavel", "Quinn", "Rosa", "Soren", "Tala", "Umar", "Vera",
)
LAST_NAMES = (
    "Arden", "Blackwood", "Castell", "Dunmore", "Everly", "Falk", "Grove", "Hale", "Iverson",
    "Juniper", "Kestrel", "Lindqvist", "Marlowe", "Novak", "Okafor", "Petrov", "Quill", "Reyes",
)
ROLES = (
    "detective", "inventor", "pilot", "baker", "archivist", "smuggler", "painter", "engineer",
    "botanist", "courier", "musician", "cartographer", "healer", "thief", "captain", "scholar",
)
TRAITS = (
    "curious", "stubborn", "kind", "reckless", "patient", "witty", "secretive", "loyal", "anxious",
    "brave", "cynical", "cheerful", "meticulous", "impulsive", "calm", "proud",
)
STYLES = (
    "watercolor", "cinematic", "photorealistic", "ink sketch", "oil painting", "pixel art",
    "low poly", "film noir", "studio lighting", "golden hour", "wide angle", "close-up",
)
TIMES = (
    "DAWN", "MORNING", "DAY", "DUSK", "EVENING", "NIGHT",
)
# fmt: on
