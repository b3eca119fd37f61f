"""Cablecast REST routes under /cablecastapi/v1 (see README.md for the list), and the mock's
own settings routes: module-level handlers, their state on the app (`build_app`), one table."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.convertors import Convertor, register_url_convertor

from .._control import Route, namespace_of
from ._http import PREFIX, ApiError, Credentials, ids_param, includes_param, int_param
from ._render import envelope, vod_status, vod_transaction, vod_transactions
from ._search import run_search
from ._store import Namespace, Record, RecordId, Store
from ._vod import iso
from .data import schedule_item_record, show_record, vod_record

DEFAULT_PAGE_SIZE = 20
API = PREFIX  # the REST API's routes
SETTINGS = "/__harness/cablecast"  # the mock-only knobs: GET/PUT settings of the caller's namespace

# url segment -> (collection key, singular key); read-only, public, not paginated
SIMPLE: dict[str, tuple[str, str]] = {
    "locations": ("locations", "location"),
    "categories": ("categories", "category"),
    "producers": ("producers", "producer"),
    "projects": ("projects", "project"),
    "channels": ("channels", "channel"),
    "livestreams": ("liveStreams", "liveStream"),
    "vodconfigurations": ("vodConfigurations", "vodConfiguration"),
    "qualities": ("vodTranscodeQualities", "vodTranscodeQuality"),
    "vodtranscodequalities": ("vodTranscodeQualities", "vodTranscodeQuality"),
    "reels": ("reels", "reel"),
    "webfiles": ("webFiles", "webFile"),
    "thumbnails": ("thumbnails", "thumbnail"),
}

# list envelope -> the other list its *sResource model carries (LiveStreamsResource,
# LocationsResource); the mock seeds no live transactions or control module sets
LIST_COMPANIONS: dict[str, str] = {
    "liveStreams": "liveTransactions",
    "locations": "controlModuleSets",
}


class _SimpleSegment(Convertor[str]):
    """Path convertor matching only the simple collection names."""

    regex = "|".join(sorted(SIMPLE, key=len, reverse=True))

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("cablecast_simple", _SimpleSegment())


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _json_body(request: Request, key: str) -> dict[str, Any]:
    """The object under `key` in the JSON body (400 otherwise)."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON.") from None
    inner = body.get(key) if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        raise ApiError(400, f'The request body must be {{"{key}": {{...}}}}.')
    return inner


def _get(space: Namespace, key: str, rec_id: RecordId, what: str) -> Record:
    table = space.table(key)
    record = table.get(rec_id)
    if record is None and isinstance(rec_id, str) and rec_id.isdigit():
        record = table.get(int(rec_id))
    if record is None:
        raise ApiError(404, f"{what} {rec_id} was not found.")
    return record


def _ref(space: Namespace, key: str, value: Any, name: str, required: bool = True) -> int | None:
    """Validate an integer reference to an existing record."""
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value not in space.table(key):
        raise ApiError(400, f"{name} must be the id of an existing {name} (got {value!r}).")
    return value


def _text(value: Any, name: str, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ApiError(400, f"{name} is required and must be a non-empty string.")
    return value


def _page(request: Request, rows: list[Record]) -> tuple[list[Record], dict[str, int]]:
    offset = int_param(request, "offset", 0) or 0
    size = int_param(request, "page_size", DEFAULT_PAGE_SIZE, minimum=1) or DEFAULT_PAGE_SIZE
    return rows[offset : offset + size], {"offset": offset, "pageSize": size, "count": len(rows)}


def _parse_day(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", ""))
    except ValueError:
        raise ApiError(400, f"{name} must be a date (YYYY-MM-DD), got '{raw}'.") from None


def _store(request: Request) -> Store:
    """The app's store (`build_app` puts it on the app's state)."""
    store: Store = request.app.state.cablecast_store
    return store


def _credentials(request: Request) -> Credentials:
    """The credentials the write routes ask for."""
    creds: Credentials = request.app.state.cablecast_credentials
    return creds


def _space(request: Request) -> Namespace:
    return _store(request).get(namespace_of(request))


def _list_response(
    request: Request, key: str, rows: list[Record], paged: bool, companion: str | None = None
) -> JSONResponse:
    space = _space(request)
    wanted = ids_param(request)
    if wanted is not None:
        as_text = {str(i) for i in wanted}
        rows = [row for row in rows if str(row["id"]) in as_text]
    meta = None
    if paged:
        rows, meta = _page(request, rows)
    fields = [f for f in request.query_params.get("fields", "").split(",") if f]
    body = envelope(
        space, key, rows, _base(request), includes_param(request), meta, fields=fields or None
    )
    if companion is not None:
        body.setdefault(companion, [])
    return JSONResponse(body)


def _one_response(
    request: Request, key: str, singular: str, record: Record, status: int = 200
) -> JSONResponse:
    body = envelope(
        _space(request),
        key,
        [record],
        _base(request),
        includes_param(request),
        singular=singular,
    )
    return JSONResponse(body, status)


# -- simple read-only collections: two routes for all of them (route matching is linear) --
async def list_simple(request: Request, segment: str) -> JSONResponse:
    key, _singular = SIMPLE[segment]
    rows = list(_space(request).table(key).values())
    return _list_response(request, key, rows, False, LIST_COMPANIONS.get(key))


async def get_simple(request: Request, segment: str, rec_id: str) -> JSONResponse:
    key, singular = SIMPLE[segment]
    return _one_response(request, key, singular, _get(_space(request), key, rec_id, key))


async def show_fields(request: Request) -> JSONResponse:
    space = _space(request)
    return JSONResponse(
        {
            "showFields": list(space.table("showFields").values()),
            "fieldDefinitions": list(space.table("fieldDefinitions").values()),
        }
    )


# -- shows -----------------------------------------------------------------------------------
async def list_shows(request: Request) -> JSONResponse:
    rows = list(_space(request).table("shows").values())
    location = int_param(request, "location", None)
    if location is not None:
        rows = [row for row in rows if row["location"] == location]
    return _list_response(request, "shows", rows, True)


async def get_show(request: Request, show_id: int) -> JSONResponse:
    return _one_response(request, "shows", "show", _get(_space(request), "shows", show_id, "Show"))


async def search_shows(request: Request) -> JSONResponse:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON.") from None
    shows = list(_space(request).table("shows").values())
    return JSONResponse({"savedShowSearch": run_search(body, shows)})


def _show_fields_from(space: Namespace, body: dict[str, Any], partial: bool) -> Record:
    out: Record = {}
    if not partial or "title" in body:
        out["title"] = _text(body.get("title"), "title", True)
    for name, key in (
        ("category", "categories"),
        ("producer", "producers"),
        ("project", "projects"),
        ("location", "locations"),
    ):
        if name in body:
            out[name] = _ref(space, key, body[name], name, required=False)
    for name in ("cgTitle", "comments", "eventDate", *(f"custom{n}" for n in range(1, 9))):
        if name in body:
            out[name] = _text(body[name], name, False)
    if "eventDate" in body and body["eventDate"] is not None:
        _parse_day(body["eventDate"], "eventDate")
    if "cgExempt" in body:
        if not isinstance(body["cgExempt"], bool):
            raise ApiError(400, "cgExempt must be a boolean.")
        out["cgExempt"] = body["cgExempt"]
    return out


async def create_show(request: Request) -> JSONResponse:
    _credentials(request).check(request)
    space = _space(request)
    fields = _show_fields_from(space, await _json_body(request, "show"), partial=False)
    show_id = space.next_id("shows")
    show = show_record(show_id, "", iso(time.time()))
    show.update({k: v for k, v in fields.items() if v is not None})
    space.table("shows")[show_id] = show
    return _one_response(request, "shows", "show", show)


async def update_show(request: Request, show_id: int) -> JSONResponse:
    _credentials(request).check(request)
    space = _space(request)
    show = _get(space, "shows", show_id, "Show")
    show.update(_show_fields_from(space, await _json_body(request, "show"), partial=True))
    show["lastModified"] = show["modified"] = iso(time.time())
    return _one_response(request, "shows", "show", show)


async def delete_show(request: Request, show_id: int) -> JSONResponse:
    _credentials(request).check(request)
    space = _space(request)
    _get(space, "shows", show_id, "Show")
    del space.table("shows")[show_id]
    return JSONResponse({})


# -- vods ----------------------------------------------------------------------------------
async def list_vods(request: Request) -> JSONResponse:
    rows = list(_space(request).table("vods").values())
    show = int_param(request, "show", None)
    if show is not None:
        rows = [row for row in rows if row["show"] == show]
    return _list_response(request, "vods", rows, True)


async def get_vod(request: Request, vod_id: int) -> JSONResponse:
    return _one_response(request, "vods", "vod", _get(_space(request), "vods", vod_id, "Vod"))


async def get_vod_status(request: Request, vod_id: int) -> JSONResponse:
    _credentials(request).check(request)
    space = _space(request)
    return JSONResponse({"vodStatus": vod_status(space, _get(space, "vods", vod_id, "Vod"))})


async def create_vod(request: Request) -> JSONResponse:
    _credentials(request).check(request)
    space = _space(request)
    body = await _json_body(request, "vod")
    show_id = _ref(space, "shows", body.get("show"), "show")
    assert show_id is not None
    quality = _ref(space, "vodTranscodeQualities", body.get("quality", 2), "quality")
    assert quality is not None
    provider = space.table("vodTranscodeQualities")[quality]["vodProvider"]
    config = _ref(
        space, "vodConfigurations", body.get("vodConfiguration", provider), "vodConfiguration"
    )
    assert config is not None
    show = space.table("shows")[show_id]
    vod_id = space.next_id("vods")
    file_name = _text(body.get("fileName"), "fileName", False) or f"{show_id}-vod-{vod_id}"
    length = sum(
        space.table("reels")[r]["length"] for r in show["reels"] if r in space.table("reels")
    )
    vod = vod_record(vod_id, show_id, quality, config, file_name, length)
    space.table("vods")[vod_id] = vod
    show["vods"].append(vod_id)
    show["lastModified"] = iso(time.time())
    token = space.settings.error_token
    space.start_vod(vod_id, fail=bool(token) and token in show["title"])
    return _one_response(request, "vods", "vod", vod)


async def delete_vod(request: Request, vod_id: int) -> JSONResponse:
    _credentials(request).check(request)
    space = _space(request)
    vod = _get(space, "vods", vod_id, "Vod")
    show = space.table("shows").get(vod["show"])
    if show is not None and vod_id in show["vods"]:
        show["vods"].remove(vod_id)
    del space.table("vods")[vod_id]
    space.vod_runs.pop(vod_id, None)
    return JSONResponse({})


async def list_vod_transactions(request: Request) -> JSONResponse:
    _credentials(request).check(request)
    space = _space(request)
    vod = int_param(request, "vod", None)
    vods = [space.table("vods")[vod]] if vod in space.table("vods") else []
    if vod is None:
        vods = list(space.table("vods").values())
    rows = [t for v in vods for t in vod_transactions(space, v)]
    return JSONResponse({"vodTransactions": rows})


async def get_vod_transaction(request: Request, transaction_id: int) -> JSONResponse:
    _credentials(request).check(request)
    transaction = vod_transaction(_space(request), transaction_id)
    if transaction is None:
        raise ApiError(404, f"VodTransaction {transaction_id} was not found.")
    return JSONResponse({"vodTransaction": transaction})


# -- chapters --------------------------------------------------------------------------------
async def list_chapters(request: Request) -> JSONResponse:
    rows = list(_space(request).table("chapters").values())
    vod = int_param(request, "vod", None)
    if vod is not None:
        rows = [row for row in rows if row["vod"] == vod]
    return _list_response(request, "chapters", rows, False)


async def get_chapter(request: Request, chapter_id: int) -> JSONResponse:
    chapter = _get(_space(request), "chapters", chapter_id, "Chapter")
    return _one_response(request, "chapters", "chapter", chapter)


def _chapter_fields(space: Namespace, body: dict[str, Any], partial: bool) -> Record:
    out: Record = {}
    if not partial or "vod" in body:
        out["vod"] = _ref(space, "vods", body.get("vod"), "vod")
    if not partial or "title" in body:
        out["title"] = _text(body.get("title"), "title", True)
    if "body" in body:
        out["body"] = _text(body["body"], "body", False) or ""
    if not partial or "offset" in body:
        offset = body.get("offset", 0)
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise ApiError(400, "offset must be a non-negative integer (seconds).")
        out["offset"] = offset
    for flag in ("hidden", "deleted"):
        if flag in body:
            if not isinstance(body[flag], bool):
                raise ApiError(400, f"{flag} must be a boolean.")
            out[flag] = body[flag]
    return out


async def create_chapter(request: Request) -> JSONResponse:
    _credentials(request).check(request)
    space = _space(request)
    fields = _chapter_fields(space, await _json_body(request, "chapter"), partial=False)
    chapter_id = space.next_id("chapters")
    chapter: Record = {
        "id": chapter_id,
        "body": "",
        "deleted": False,
        "hidden": False,
        **fields,
    }
    space.table("chapters")[chapter_id] = chapter
    space.table("vods")[chapter["vod"]]["chapters"].append(chapter_id)
    return _one_response(request, "chapters", "chapter", chapter)


async def update_chapter(request: Request, chapter_id: int) -> JSONResponse:
    _credentials(request).check(request)
    space = _space(request)
    chapter = _get(space, "chapters", chapter_id, "Chapter")
    fields = _chapter_fields(space, await _json_body(request, "chapter"), partial=True)
    if "vod" in fields and fields["vod"] != chapter["vod"]:
        raise ApiError(400, "A chapter cannot be moved to another vod.")
    chapter.update(fields)
    return _one_response(request, "chapters", "chapter", chapter)


async def delete_chapter(request: Request, chapter_id: int) -> JSONResponse:
    _credentials(request).check(request)
    chapter = _get(_space(request), "chapters", chapter_id, "Chapter")
    chapter["deleted"] = True  # Cablecast keeps deleted chapters, flagged
    return JSONResponse({})


# -- schedule --------------------------------------------------------------------------------
async def list_schedule(request: Request) -> JSONResponse:
    rows = list(_space(request).table("scheduleItems").values())
    start = _parse_day(request.query_params.get("start"), "start")
    end = _parse_day(request.query_params.get("end"), "end")
    if end is not None and len(request.query_params.get("end", "")) == 10:
        end += timedelta(days=1)  # a bare end date includes that whole day
    channel = int_param(request, "channel", None)
    show = int_param(request, "show", None)
    cg = request.query_params.get("include_cg_exempt", "true").lower() != "false"
    out = []
    for row in rows:
        when = datetime.fromisoformat(row["runDateTime"])
        if (start is not None and when < start) or (end is not None and when >= end):
            continue
        if (channel is not None and row["channel"] != channel) or (
            show is not None and row["show"] != show
        ):
            continue
        if (not cg and row["cgExempt"]) or row["deleted"]:
            continue
        out.append(row)
    out.sort(key=lambda r: (r["runDateTime"], r["id"]))
    return _list_response(request, "scheduleItems", out, True)


async def get_schedule_item(request: Request, item_id: int) -> JSONResponse:
    item = _get(_space(request), "scheduleItems", item_id, "ScheduleItem")
    return _one_response(request, "scheduleItems", "scheduleItem", item)


async def create_schedule_item(request: Request) -> JSONResponse:
    _credentials(request).check(request)
    space = _space(request)
    body = await _json_body(request, "scheduleItem")
    channel = _ref(space, "channels", body.get("channel"), "channel")
    show = _ref(space, "shows", body.get("show"), "show")
    assert channel is not None and show is not None
    run = _text(body.get("runDateTime"), "runDateTime", True)
    when = _parse_day(run, "runDateTime")
    assert when is not None
    item_id = space.next_id("scheduleItems")
    run_bump = body.get("runBump", 0)
    item = schedule_item_record(
        item_id,
        channel,
        show,
        when.strftime("%Y-%m-%dT%H:%M:%S"),
        bool(body.get("cgExempt", False)),
        run_bump if isinstance(run_bump, int) and not isinstance(run_bump, bool) else 0,
    )
    space.table("scheduleItems")[item_id] = item
    return _one_response(request, "scheduleItems", "scheduleItem", item)


async def delete_schedule_item(request: Request, item_id: int) -> JSONResponse:
    _credentials(request).check(request)
    item = _get(_space(request), "scheduleItems", item_id, "ScheduleItem")
    item["deleted"] = True
    return JSONResponse({})


# -- the mock's settings (not Cablecast's) ---------------------------------------------------
async def get_settings(request: Request) -> JSONResponse:
    return JSONResponse(_store(request).get(namespace_of(request)).settings.public())


async def put_settings(request: Request) -> JSONResponse:
    space = _store(request).get(namespace_of(request))
    try:
        changes = json.loads(await request.body() or b"{}")
        if not isinstance(changes, dict):
            raise ValueError("body must be a JSON object")
        space.settings = space.settings.updated(changes)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return JSONResponse(space.settings.public())


ROUTES: tuple[Route, ...] = (  # in the order of matching
    Route("GET", API + "/{segment:cablecast_simple}", list_simple),
    Route("GET", API + "/{segment:cablecast_simple}/{rec_id}", get_simple),
    Route("GET", API + "/showfields", show_fields),
    Route("GET", API + "/shows", list_shows),
    Route("GET", API + "/shows/{show_id:int}", get_show),
    Route("POST", API + "/shows/search/advanced", search_shows),
    Route("POST", API + "/shows", create_show),
    Route("PUT", API + "/shows/{show_id:int}", update_show),
    Route("DELETE", API + "/shows/{show_id:int}", delete_show),
    Route("GET", API + "/vods", list_vods),
    Route("GET", API + "/vods/{vod_id:int}", get_vod),
    Route("GET", API + "/vods/{vod_id:int}/status", get_vod_status),
    Route("POST", API + "/vods", create_vod),
    Route("DELETE", API + "/vods/{vod_id:int}", delete_vod),
    Route("GET", API + "/vodtransactions", list_vod_transactions),
    Route("GET", API + "/vodtransactions/{transaction_id:int}", get_vod_transaction),
    Route("GET", API + "/chapters", list_chapters),
    Route("GET", API + "/chapters/{chapter_id:int}", get_chapter),
    Route("POST", API + "/chapters", create_chapter),
    Route("PUT", API + "/chapters/{chapter_id:int}", update_chapter),
    Route("DELETE", API + "/chapters/{chapter_id:int}", delete_chapter),
    Route("GET", API + "/scheduleitems", list_schedule),
    Route("GET", API + "/scheduleitems/{item_id:int}", get_schedule_item),
    Route("POST", API + "/scheduleitems", create_schedule_item),
    Route("DELETE", API + "/scheduleitems/{item_id:int}", delete_schedule_item),
    Route("GET", SETTINGS + "/settings", get_settings),
    Route("PUT", SETTINGS + "/settings", put_settings),
)
