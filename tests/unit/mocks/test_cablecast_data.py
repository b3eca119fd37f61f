"""The seeded Cablecast data generator (importable by harness users)."""

from __future__ import annotations

from datetime import date

import pytest

from harness.mocks.cablecast.data import generate


def test_same_seed_same_data_other_seed_other_data() -> None:
    day = date(2026, 1, 5)
    assert generate(11, shows=12, start=day) == generate(11, shows=12, start=day)
    assert generate(11, shows=12, start=day) != generate(12, shows=12, start=day)


def test_references_are_consistent() -> None:
    data = generate(4, shows=25, channels=2, days=3, items_per_day=5, start=date(2026, 2, 1))
    show_ids = {s["id"] for s in data["shows"]}
    assert len(data["shows"]) == 25 and len(data["channels"]) == 2
    assert len(data["scheduleItems"]) == 2 * 3 * 5
    assert {i["show"] for i in data["scheduleItems"]} <= show_ids
    assert all(i["runDateTime"] >= "2026-02-01" for i in data["scheduleItems"])
    vods = {v["id"]: v for v in data["vods"]}
    assert {v for s in data["shows"] for v in s["vods"]} == set(vods)
    assert all(vods[c["vod"]] for c in data["chapters"])
    assert {r["show"] for r in data["reels"]} == show_ids


def test_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError):
        generate(0, channels=0)
