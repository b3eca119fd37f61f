"""Cablecast shows, VODs and schedules: the Cablecast mock's own seeded generator.

`harness.mocks.cablecast.data.generate` builds the dataset the mock serves; this module calls it, so
the data a test generates is exactly the data the mock can be loaded with.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ._mocks import mock_attribute
from ._rng import Seed, rng_of

__all__ = ["CABLECAST_EPOCH", "cablecast_dataset"]

# a fixed first schedule day, so the same seed gives the same data on any day
CABLECAST_EPOCH = date(2026, 1, 5)


def cablecast_dataset(
    seed: Seed = 0,
    shows: int = 40,
    channels: int = 3,
    days: int = 14,
    items_per_day: int = 6,
    start: date = CABLECAST_EPOCH,
    vod_fraction: float = 0.5,
) -> dict[str, list[dict[str, Any]]]:
    """Collections by Cablecast key (shows, vods, scheduleItems, channels, ...), ids linked."""
    generate = mock_attribute("harness.mocks.cablecast.data", "generate", "cablecast_dataset()")
    data: dict[str, list[dict[str, Any]]] = generate(
        shows=shows,
        channels=channels,
        days=days,
        items_per_day=items_per_day,
        start=start,
        vod_fraction=vod_fraction,
        rng=rng_of(seed),
    )
    return data
