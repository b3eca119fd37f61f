"""Turn stored records into Cablecast JSON: computed VOD fields, envelopes, sideloads."""

from __future__ import annotations

import time
from typing import Any

from ._store import Namespace, Record
from ._vod import iso

# collection -> include name -> (field on the record holding id(s), sideloaded collection key)
INCLUDES: dict[str, dict[str, tuple[str, str]]] = {
    "shows": {
        "reel": ("reels", "reels"),
        "vod": ("vods", "vods"),
        "webfile": ("webFiles", "webFiles"),
        "thumbnail": ("thumbnails", "thumbnails"),
    },
    "vods": {"show": ("show", "shows"), "chapter": ("chapters", "chapters")},
    "scheduleItems": {"show": ("show", "shows"), "channel": ("channel", "channels")},
}


def absolute(base: str, value: str | None) -> str | None:
    """Prefix root-relative URLs with the request's base URL."""
    if value and value.startswith("/"):
        return base + value
    return value


def vod_json(space: Namespace, vod: Record, base: str, now: float | None = None) -> Record:
    """A Vod with lifecycle fields computed for `now`; url/embedCode only once complete."""
    out = dict(vod)
    run = space.vod_runs.get(vod["id"])
    if run is not None:
        snap = run.at(time.time() if now is None else now)
        out.update(
            vodState=snap.state,
            percentComplete=snap.percent,
            stateProgress=snap.percent,
            errorMessage=snap.error,
            stateChange=iso(snap.changed_at),
            transactionType=snap.state,
            lastTransaction=vod["id"] * 1000 + len(snap.transitions),
        )
        if snap.state != "complete":
            out.update(url=None, localUrl=None, embedCode=None)
    out["url"] = absolute(base, out.get("url"))
    out["localUrl"] = absolute(base, out.get("localUrl"))
    if out.get("embedCode"):
        out["embedCode"] = out["embedCode"].replace('src="/', f'src="{base}/')
    return out


def vod_status(space: Namespace, vod: Record) -> Record:
    """VodStatus model for one VOD."""
    full = vod_json(space, vod, "")
    return {
        "id": vod["id"],
        "vodState": full.get("vodState", "unknown"),
        "percentComplete": full.get("percentComplete", 0),
        "errorMessage": full.get("errorMessage"),
    }


def vod_transactions(space: Namespace, vod: Record) -> list[Record]:
    """VodTransaction list (one per state entered so far)."""
    run = space.vod_runs.get(vod["id"])
    if run is None:
        return [
            {
                "id": vod["id"] * 1000 + 1,
                "vod": vod["id"],
                "transactionType": "complete",
                "percentComplete": 100,
                "startTime": vod.get("stateChange"),
            }
        ]
    snap = run.at(time.time())
    return [
        {
            "id": vod["id"] * 1000 + i,
            "vod": vod["id"],
            "transactionType": state,
            "percentComplete": percent,
            "startTime": iso(started),
        }
        for i, (state, percent, started) in enumerate(snap.transitions, 1)
    ]


def record_json(space: Namespace, key: str, record: Record, base: str) -> Record:
    """One record as served (VODs get computed fields)."""
    return vod_json(space, record, base) if key == "vods" else record


def envelope(
    space: Namespace,
    key: str,
    records: list[Record],
    base: str,
    includes: list[str],
    meta: dict[str, int] | None = None,
    singular: str | None = None,
    fields: list[str] | None = None,
) -> dict[str, Any]:
    """`{plural: [...]}` (or `{singular: {...}}`) plus `meta` and sideloaded collections."""
    rendered = [record_json(space, key, rec, base) for rec in records]
    if fields:
        wanted = {"id", *fields}
        rendered = [{k: v for k, v in rec.items() if k in wanted} for rec in rendered]
    body: dict[str, Any] = {}
    if singular is not None:
        body[singular] = rendered[0]
    else:
        body[key] = rendered
    if meta is not None:
        body["meta"] = meta
    for name in includes:
        spec = INCLUDES.get(key, {}).get(name)
        if spec is None:
            continue
        field_name, target = spec
        wanted_ids: list[int] = []
        for rec in records:
            value = rec.get(field_name)
            refs = value if isinstance(value, list) else [value]
            wanted_ids.extend(ref for ref in refs if isinstance(ref, int) and ref not in wanted_ids)
        table = space.table(target)
        body[target] = [
            record_json(space, target, table[i], base) for i in wanted_ids if i in table
        ]
    return body
