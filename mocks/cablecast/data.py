"""Seeded, deterministic Cablecast test data (shows, channels, schedule, VODs...).

Importable by harness users::

    from mocks.cablecast.data import generate
    data = generate(seed=7, shows=30)
    data["shows"][0]["title"]

The result maps Cablecast collection keys (camelCase plural, as in API envelopes) to lists of
model dicts that reference each other by integer ids. Same seed and arguments -> same data.
Schedule dates are laid out from `start` (default: today, UTC) so `scheduleitems?start=today`
finds items.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

Dataset = dict[str, list[dict[str, Any]]]

COLLECTION_KEYS: tuple[str, ...] = (
    "locations",
    "categories",
    "producers",
    "projects",
    "channels",
    "liveStreams",
    "vodConfigurations",
    "qualities",
    "showFields",
    "fieldDefinitions",
    "shows",
    "reels",
    "webFiles",
    "thumbnails",
    "vods",
    "chapters",
    "scheduleItems",
)

_ADJECTIVES = ("Morning", "Evening", "Weekly", "Community", "Civic", "Open", "Local", "Youth")
_NOUNS = ("Council Meeting", "Town Hall", "Sports Hour", "Arts Review", "News Desk", "Forum")
_CATEGORIES = ("Government", "Education", "Sports", "Arts", "Religion", "Community")
_PRODUCERS = ("City Clerk", "School District", "Parks & Rec", "Library", "Volunteer Crew")
_PROJECTS = ("Council Sessions", "Graduation", "High School Football", "Story Time")
_QUALITIES = ("Low (480p)", "Standard (720p)", "High (1080p)")
_LENGTHS = (600, 1800, 3600, 5400)  # seconds


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def generate(
    seed: int = 0,
    shows: int = 40,
    channels: int = 3,
    days: int = 14,
    items_per_day: int = 6,
    start: date | None = None,
    vod_fraction: float = 0.5,
) -> Dataset:
    """Build a Cablecast dataset; every random choice comes from `random.Random(seed)`."""
    if shows < 0 or channels < 1 or days < 0 or items_per_day < 0:
        raise ValueError("shows, days and items_per_day must be >= 0 and channels >= 1")
    rng = random.Random(seed)
    first_day = start or datetime.now(UTC).date()
    epoch = datetime.combine(first_day, time(0, 0)) - timedelta(days=365)
    data: Dataset = {key: [] for key in COLLECTION_KEYS}

    data["locations"] = [{"id": 1, "name": "Main Location"}]
    data["categories"] = [
        {"id": i, "name": name, "location": 1, "color": f"#{rng.randrange(0x1000000):06x}"}
        for i, name in enumerate(_CATEGORIES, 1)
    ]
    data["producers"] = [
        {"id": i, "name": name, "location": 1, "contact": "", "email": "", "active": True}
        for i, name in enumerate(_PRODUCERS, 1)
    ]
    data["projects"] = [
        {"id": i, "name": name, "location": 1, "description": "", "producer": i}
        for i, name in enumerate(_PROJECTS, 1)
    ]
    data["channels"] = [
        {
            "id": i,
            "name": f"Channel {i}",
            "location": 1,
            "primaryLocation": 1,
            "liveStreams": [i],
            "vodEnabled": True,
        }
        for i in range(1, channels + 1)
    ]
    data["liveStreams"] = [
        {"id": i, "name": f"Channel {i} Live", "channel": i, "url": f"/live/{i}/index.m3u8"}
        for i in range(1, channels + 1)
    ]
    data["vodConfigurations"] = [
        {"id": i, "name": name, "location": 1, "enabled": True}
        for i, name in enumerate(_QUALITIES, 1)
    ]
    data["qualities"] = [
        {"id": i, "name": name, "vodConfiguration": i} for i, name in enumerate(_QUALITIES, 1)
    ]
    data["showFields"] = [{"id": i, "fieldDefinition": i, "location": 1} for i in range(1, 3)]
    data["fieldDefinitions"] = [
        {"id": 1, "name": "Meeting Type", "type": "text"},
        {"id": 2, "name": "Agenda URL", "type": "url"},
    ]

    for show_id in range(1, shows + 1):
        title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} #{show_id}"
        length = rng.choice(_LENGTHS)
        event = epoch + timedelta(days=rng.randrange(365), minutes=rng.randrange(0, 1440, 15))
        modified = event + timedelta(hours=rng.randrange(1, 72))
        reel_id = show_id
        data["reels"].append(
            {"id": reel_id, "show": show_id, "reelNumber": 1, "length": length, "cue": 0}
        )
        data["webFiles"].append(
            {
                "id": show_id,
                "show": show_id,
                "name": f"agenda-{show_id}.pdf",
                "url": f"/webfiles/agenda-{show_id}.pdf",
            }
        )
        data["thumbnails"].append(
            {"id": show_id, "show": show_id, "url": f"/thumbnails/show-{show_id}.jpg"}
        )
        show: dict[str, Any] = {
            "id": show_id,
            "location": 1,
            "title": title,
            "cgTitle": title,
            "category": rng.randrange(1, len(_CATEGORIES) + 1),
            "producer": rng.randrange(1, len(_PRODUCERS) + 1),
            "project": rng.randrange(1, len(_PROJECTS) + 1),
            "comments": f"Seeded show {show_id}.",
            "eventDate": _iso(event),
            "lastModified": _iso(modified),
            "reels": [reel_id],
            "vods": [],
            "webFiles": [show_id],
            "thumbnails": [show_id],
            "customFields": [],
            "cgExempt": rng.random() < 0.1,
            "vodEnabled": True,
        }
        for n in range(1, 9):
            show[f"custom{n}"] = ""
        if rng.random() < vod_fraction:
            vod_id = len(data["vods"]) + 1
            show["vods"].append(vod_id)
            file_name = f"{show_id}-show-{show_id}-v1"
            data["vods"].append(
                {
                    "id": vod_id,
                    "show": show_id,
                    "quality": 2,
                    "vodConfiguration": 2,
                    "fileName": file_name,
                    "length": length,
                    "url": f"/vod/{file_name}/vod.m3u8",
                    "localUrl": f"/vod/{file_name}/vod.mp4",
                    "embedCode": (
                        f'<iframe src="/CablecastPublicSite/show/{show_id}?embed=true&vod={vod_id}"'
                        ' width="640" height="360" frameborder="0" allowfullscreen></iframe>'
                    ),
                    "webVtt": None,
                    "chapters": [],
                    "stateChange": _iso(modified),
                    "stateProgress": 100,
                    "lastTransaction": None,
                    "transactionType": "complete",
                    "vodState": "complete",
                    "percentComplete": 100,
                    "errorMessage": None,
                }
            )
            for index in range(rng.randrange(0, 4)):
                chapter_id = len(data["chapters"]) + 1
                data["vods"][-1]["chapters"].append(chapter_id)
                data["chapters"].append(
                    {
                        "id": chapter_id,
                        "vod": vod_id,
                        "title": f"Part {index + 1}",
                        "body": "",
                        "offset": index * 300,
                        "deleted": False,
                        "hidden": False,
                    }
                )
        data["shows"].append(show)

    if shows:
        item_id = 0
        for day in range(days):
            for channel in range(1, channels + 1):
                moment = datetime.combine(first_day + timedelta(days=day), time(6, 0))
                for _ in range(items_per_day):
                    item_id += 1
                    show = data["shows"][rng.randrange(shows)]
                    data["scheduleItems"].append(
                        {
                            "id": item_id,
                            "channel": channel,
                            "show": show["id"],
                            "runDateTime": _iso(moment),
                            "runBump": 0,
                            "cgExempt": show["cgExempt"],
                            "deleted": False,
                        }
                    )
                    moment += timedelta(minutes=rng.choice((30, 60, 90, 120)))
    return data
