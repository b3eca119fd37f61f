"""Seeded, deterministic Cablecast test data (shows, channels, schedule, VODs...).

Importable by harness users::

    from harness.mocks.cablecast.data import generate
    data = generate(seed=7, shows=30)
    data["shows"][0]["title"]

The result maps Cablecast collection keys (camelCase plural, as in API envelopes) to lists of
model dicts that reference each other by ids. Each record has exactly the fields of its model in
Cablecast's API-explorer export (ShowDto, VodDto, ScheduleItemDto, ...; see README.md), no more.
Same seed and arguments -> same data.
Schedule dates are laid out from `start` (default: today, UTC) so `scheduleitems?start=today`
finds items.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ._vod import transaction_type

Dataset = dict[str, list[dict[str, Any]]]

COLLECTION_KEYS: tuple[str, ...] = (
    "locations",
    "categories",
    "producers",
    "projects",
    "channels",
    "liveStreams",
    "vodConfigurations",
    "vodTranscodeQualities",
    "showFields",
    "fieldDefinitions",
    "shows",
    "reels",
    "webFiles",
    "showFiles",
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


def show_record(show_id: int, title: str, moment: str, **fields: Any) -> dict[str, Any]:
    """A ShowDto with every documented field; `fields` override the defaults."""
    show: dict[str, Any] = {
        "id": show_id,
        "location": 1,
        "localId": "",
        "title": title,
        "cgTitle": title,
        "category": None,
        "producer": None,
        "project": None,
        "comments": "",
        "eventDate": moment,
        "created": moment,
        "modified": moment,
        "lastModified": moment,
        "reels": [],
        "vods": [],
        "showFiles": [],
        "showThumbnails": [],
        "thumbnail": None,
        "thumbnailOptions": [],
        "thumbnailImage": None,
        "thumbnailAltText": "",
        "firstRuns": [],
        "customFields": [],
        "cgExempt": False,
        "liveIpExempt": False,
        "podcastExempt": False,
        "isOnReflectPlus": False,
        "ageRating": 0,
        "contentRating": 0,
        "bugText": "",
        "crawlText": "",
        "crawlLength": 0,
        "killDateStart": None,
        "killDateEnd": None,
        "runCount": 0,
        "totalRunTime": 0,
        "showPriceSearch": None,
        "hasCaptions": False,
        "generateCaptions": False,
        "generateCaptionsSecondary": False,
        "generateTranslations": False,
        "captionProvider": "",
        "captionVocabulary": None,
        "captionLanguage": "",
        "captionLanguageSecondary": "",
        "additionalCaptionLanguages": "",
        "secondaryAdditionalCaptionLanguages": "",
        "translationLanguages": "",
        "translationSourceLanguage": "",
        **{f"custom{n}": "" for n in range(1, 9)},
    }
    show.update(fields)
    return show


def vod_record(
    vod_id: int, show_id: int, quality: int, configuration: int, file_name: str, length: int
) -> dict[str, Any]:
    """A complete VodDto (the lifecycle fields describe a finished transcode)."""
    player = f"/CablecastPublicSite/show/{show_id}?embed=true&vod={vod_id}"
    frame = ' width="640" height="360" frameborder="0" allowfullscreen></iframe>'
    return {
        "id": vod_id,
        "show": show_id,
        "quality": quality,
        "vodConfiguration": configuration,
        "asset": None,
        "fileName": file_name,
        "length": length,
        "url": f"/vod/{file_name}/vod.m3u8",
        "localUrl": f"/vod/{file_name}/vod.mp4",
        "embedCode": f'<iframe src="{player}"{frame}',
        "nonReflectEmbedCode": f'<iframe src="{player}&reflect=false"{frame}',
        "webVtt": None,
        "chapters": [],
        "chaptersPublished": True,
        "chapteringSession": None,
        "stateChange": None,
        "stateProgress": 100,
        "lastTransaction": vod_id * 1000 + 1,
        "transactionType": transaction_type("complete"),
        "vodState": "complete",
        "vodStatus": vod_id,
        "percentComplete": 100,
        "errorMessage": None,
        "statusMessage": "",
        "disabled": False,
        "isOnCloud": False,
        "isWatchable": True,
        "usesAgendaLink": False,
        "views": 0,
        "secondaryAudioProgramming": 0,
        "primaryAudioLabel": "",
        "primaryAudioLangCode": "",
        "secondaryAudioLabel": "",
        "secondaryAudioLangCode": "",
    }


def schedule_item_record(
    item_id: int, channel: int, show: int, run: str, cg_exempt: bool, run_bump: int = 0
) -> dict[str, Any]:
    """A ScheduleItemDto for a show run (idType 1 = Show)."""
    return {
        "id": item_id,
        "channel": channel,
        "show": show,
        "idType": 1,
        "manualEvent": None,
        "runDateTime": run,
        "runBump": run_bump,
        "runLock": False,
        "runStatus": 0,
        "runType": 0,
        "filler": False,
        "scheduleRule": None,
        "cgExempt": cg_exempt,
        "deleted": False,
        "bugText": "",
        "crawlText": "",
        "crawlLength": 0,
        "hasFiles": True,
        "hasValidFile": True,
        "hasInvalidFile": False,
        "hasProcessingFile": False,
        "hasNetworkBroadcastEvents": False,
        "hasNetworkBroadcastErrors": False,
        "recordEvents": [],
        "encoder": None,
        "liveCaptions": False,
        "liveTranslations": False,
        "captionProvider": "",
        "captionVocabulary": None,
        "sourceLanguage": "",
        "translationLanguage": "",
        "secondaryAudioProgramming": 0,
    }


def generate(
    seed: int = 0,
    shows: int = 40,
    channels: int = 3,
    days: int = 14,
    items_per_day: int = 6,
    start: date | None = None,
    vod_fraction: float = 0.5,
    rng: random.Random | None = None,
) -> Dataset:
    """Build a Cablecast dataset; every random choice comes from `rng`, by default
    `random.Random(seed)` (harness.data.strategies passes hypothesis' recording one)."""
    if shows < 0 or channels < 1 or days < 0 or items_per_day < 0:
        raise ValueError("shows, days and items_per_day must be >= 0 and channels >= 1")
    rng = rng if rng is not None else random.Random(seed)
    first_day = start or datetime.now(UTC).date()
    epoch = datetime.combine(first_day, time(0, 0)) - timedelta(days=365)
    data: Dataset = {key: [] for key in COLLECTION_KEYS}

    data["locations"] = [
        {"id": 1, "name": "Main Location", "routerControlModuleSet": None, "vodConfigurations": [1]}
    ]
    data["categories"] = [
        {"id": i, "name": name, "location": 1} for i, name in enumerate(_CATEGORIES, 1)
    ]
    data["producers"] = [
        {
            "id": i,
            "name": name,
            "location": 1,
            "active": True,
            "contact": name,
            "email": f"producer{i}@example.org",
            "address": "",
            "phoneOne": f"555-01{i:02d}",
            "phoneTwo": "",
            "website": "",
            "notes": "",
        }
        for i, name in enumerate(_PRODUCERS, 1)
    ]
    data["projects"] = [
        {
            "id": i,
            "name": name,
            "location": 1,
            "description": "",
            "producer": i,
            "podcast": False,
            "podcastName": "",
            "podcastDescription": "",
            "podcastUrl": "",
        }
        for i, name in enumerate(_PROJECTS, 1)
    ]
    # ChannelDto is not in the export: the fields Tightrope's plugin reads (id, name, liveStreams)
    data["channels"] = [
        {"id": i, "name": f"Channel {i}", "location": 1, "liveStreams": [i]}
        for i in range(1, channels + 1)
    ]
    data["liveStreams"] = [
        {
            "id": i,
            "name": f"Channel {i} Live",
            "channel": i,
            "location": 1,
            "liveStreamConfiguration": None,
            "state": "running",
            "streamUrl": f"/live/{i}/index.m3u8",
            "embedCode": f'<iframe src="/CablecastPublicSite/watch/{i}?embed=true"></iframe>',
            "nonReflectEmbedCode": (
                f'<iframe src="/CablecastPublicSite/watch/{i}?embed=true&reflect=false"></iframe>'
            ),
            "autoPlay": False,
            "views": 0,
            "transactions": [],
            "secondaryAudioProgramming": 0,
            "primaryAudioLabel": "",
            "primaryAudioLangCode": "",
            "secondaryAudioLabel": "",
            "secondaryAudioLangCode": "",
        }
        for i in range(1, channels + 1)
    ]
    data["vodConfigurations"] = [
        {
            "id": 1,
            "location": 1,
            "providerName": "TRMS",
            "defaultQuality": 2,
            "maximumResolution": 1080,
            "embedTemplate": "",
            "excludeMp4FromSync": False,
            "vodControlModuleSet": None,
            "vodTranscodeQualities": list(range(1, len(_QUALITIES) + 1)),
            "secondaryAudioProgramming": 0,
            "primaryAudioLabel": "",
            "primaryAudioLangCode": "",
            "secondaryAudioLabel": "",
            "secondaryAudioLangCode": "",
        }
    ]
    data["vodTranscodeQualities"] = [
        {
            "id": i,
            "name": name,
            "vodProvider": 1,
            "descriptionTemplate": name,
            "settingsHash": "{}",
        }
        for i, name in enumerate(_QUALITIES, 1)
    ]
    data["showFields"] = [
        {"id": i, "fieldDefinition": i, "label": "", "maxInstances": 1} for i in range(1, 3)
    ]
    data["fieldDefinitions"] = [
        {
            "id": 1,
            "name": "Meeting Type",
            "type": "string",
            "widget": "text",
            "location": 1,
            "fieldOptions": [],
        },
        {
            "id": 2,
            "name": "Agenda URL",
            "type": "string",
            "widget": "text",
            "location": 1,
            "fieldOptions": [],
        },
    ]

    for show_id in range(1, shows + 1):
        title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} #{show_id}"
        length = rng.choice(_LENGTHS)
        event = epoch + timedelta(days=rng.randrange(365), minutes=rng.randrange(0, 1440, 15))
        modified = event + timedelta(hours=rng.randrange(1, 72))
        reel_id = show_id
        data["reels"].append(
            {
                "id": reel_id,
                "show": show_id,
                "reelNumber": 1,
                "length": length,
                "cue": 0,
                "media": None,
                "title": 0,
                "chapter": 0,
                "userFileName": f"{show_id}-1.mp4",
                "playbackAsset": None,
                "assetReelLinks": [],
                "audioPrograms": 1,
                "secondaryAudioProgramming": 0,
                "hasValidFile": True,
                "hasInvalidFile": False,
                "hasProcessingFile": False,
            }
        )
        data["webFiles"].append(
            {
                "id": show_id,
                "show": show_id,
                "name": f"agenda-{show_id}.pdf",
                "url": f"/webfiles/agenda-{show_id}.pdf",
            }
        )
        data["showFiles"].append({"id": show_id, "show": show_id, "file": show_id, "asset": None})
        thumbnail_url = f"/thumbnails/show-{show_id}.jpg"
        data["thumbnails"].append({"id": str(show_id), "url": thumbnail_url, "quality": "Medium"})
        show = show_record(
            show_id,
            title,
            _iso(modified),
            category=rng.randrange(1, len(_CATEGORIES) + 1),
            producer=rng.randrange(1, len(_PRODUCERS) + 1),
            project=rng.randrange(1, len(_PROJECTS) + 1),
            comments=f"Seeded show {show_id}.",
            eventDate=_iso(event),
            created=_iso(event),
            reels=[reel_id],
            totalRunTime=length,
            showFiles=[show_id],
            showThumbnails=[str(show_id)],
            thumbnail=show_id,
            thumbnailOptions=[show_id],
            thumbnailImage={"url": thumbnail_url},
            cgExempt=rng.random() < 0.1,
        )
        if rng.random() < vod_fraction:
            vod_id = len(data["vods"]) + 1
            show["vods"].append(vod_id)
            vod = vod_record(vod_id, show_id, 2, 1, f"{show_id}-show-{show_id}-v1", length)
            vod["stateChange"] = _iso(modified)
            data["vods"].append(vod)
            for index in range(rng.randrange(0, 4)):
                chapter_id = len(data["chapters"]) + 1
                vod["chapters"].append(chapter_id)
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
                        schedule_item_record(
                            item_id, channel, show["id"], _iso(moment), show["cgExempt"]
                        )
                    )
                    show["runCount"] += 1
                    moment += timedelta(minutes=rng.choice((30, 60, 90, 120)))
    return data
