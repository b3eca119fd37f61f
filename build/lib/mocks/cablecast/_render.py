"""Turn stored records into Cablecast JSON: computed VOD fields, envelopes, sideloads."""

from __future__ import annotations

import time
from typing import Any

from ._store import Namespace, Record
from ._vod import iso, transaction_type

# collection -> include name -> (field on the record holding id(s), sideloaded collection key,
# optional hop: (collection the ids point into, field there holding the sideloaded id))
Include = tuple[str, str, tuple[str, str] | None]
INCLUDES: dict[str, dict[str, Include]] = {
    "shows": {
        "reel": ("reels", "reels", None),
        "vod": ("vods", "vods", None),
        "webfile": ("showFiles", "webFiles", ("showFiles", "file")),
        "thumbnail": ("showThumbnails", "thumbnails", None),
    },
    "vods": {"show": ("show", "shows", None), "chapter": ("chapters", "chapters", None)},
    "scheduleItems": {
        "show": ("show", "shows", None),
        "channel": ("channel", "channels", None),
    },
}
URL_FIELDS = ("url", "localUrl", "streamUrl")
EMBED_FIELDS = ("embedCode", "nonReflectEmbedCode")


def absolute(base: str, value: str | None) -> str | None:
    """Prefix root-relative URLs with the request's base URL."""
    if value and value.startswith("/"):
        return base + value
    return value


def with_absolute_urls(record: Record, base: str) -> Record:
    """A copy whose root-relative URLs (and embed iframes) point at the mock's own address."""
    out = dict(record)
    for name in URL_FIELDS:
        if name in out:
            out[name] = absolute(base, out[name])
    for name in EMBED_FIELDS:
        if out.get(name):
            out[name] = out[name].replace('src="/', f'src="{base}/')
    image = out.get("thumbnailImage")
    if isinstance(image, dict):
        out["thumbnailImage"] = {**image, "url": absolute(base, image.get("url"))}
    return out


def vod_json(space: Namespace, vod: Record, base: str, now: float | None = None) -> Record:
    """A Vod with lifecycle fields computed for `now`; url/embedCode only once complete."""
    out = dict(vod)
    run = space.vod_runs.get(vod["id"])
    if run is not None:
        snap = run.at(time.time() if now is None else now)
        complete = snap.state == "complete"
        out.update(
            vodState=snap.state,
            percentComplete=snap.percent,
            stateProgress=snap.percent,
            errorMessage=snap.error,
            stateChange=iso(snap.changed_at),
            transactionType=transaction_type(snap.state),
            lastTransaction=vod["id"] * 1000 + len(snap.transitions),
            isWatchable=complete,
        )
        if not complete:
            out.update(url=None, localUrl=None, embedCode=None, nonReflectEmbedCode=None)
    return with_absolute_urls(out, base)


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
    """VodTransaction list (one per state entered so far); ids are vod id * 1000 + n."""
    run = space.vod_runs.get(vod["id"])
    if run is None:
        steps = [("complete", 100, vod.get("stateChange"))]
    else:
        snap = run.at(time.time())
        steps = [(state, pct, iso(started)) for state, pct, started in snap.transitions]
    return [
        {
            "id": vod["id"] * 1000 + i,
            "vod": vod["id"],
            "transactionType": transaction_type(state),
            "percentComplete": percent,
            "startTime": started,
            "lastModified": started,
        }
        for i, (state, percent, started) in enumerate(steps, 1)
    ]


def vod_transaction(space: Namespace, transaction_id: int) -> Record | None:
    """One VodTransaction by id, None if there is no such transaction."""
    vod = space.table("vods").get(transaction_id // 1000)
    if vod is None:
        return None
    found = [t for t in vod_transactions(space, vod) if t["id"] == transaction_id]
    return found[0] if found else None


def record_json(space: Namespace, key: str, record: Record, base: str) -> Record:
    """One record as served (VODs get computed fields; URLs are absolute)."""
    return vod_json(space, record, base) if key == "vods" else with_absolute_urls(record, base)


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
        field_name, target, hop = spec
        wanted_ids: list[int | str] = []
        for rec in records:
            value = rec.get(field_name)
            refs = value if isinstance(value, list) else [value]
            if hop is not None:
                via = space.table(hop[0])
                refs = [via[ref][hop[1]] for ref in refs if ref in via]
            wanted_ids.extend(ref for ref in refs if ref is not None and ref not in wanted_ids)
        table = space.table(target)
        body[target] = [
            record_json(space, target, table[i], base) for i in wanted_ids if i in table
        ]
    return body
