"""Cablecast mock conformance: records and envelopes as in Cablecast's API-explorer models.

Real source: Cablecast is closed; its API explorer's model printouts ship in the public
repository SCC-Dev-256/Archivist at commit 0a57b8e4aacce81037db83b0bee31c7b6baf8e3b, file
docs/pdf/cablecast_api_last_half.pdf (printed from vod.scctv.org/ui/api-docs/explorer).
data/cablecast_models.json holds the field names and JSON types of the models the mock serves,
transcribed from that file. Each record must carry exactly its model's fields, with its types.
Client behaviour cited from trms/wp-cablecast 11214dc78e04c67cf1c57ec76c04fda47ad10b3d,
includes/sync.php.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

AUTH = ("admin", "admin")
API = "/cablecastapi/v1"
MODELS: dict[str, dict[str, str]] = json.loads(
    (Path(__file__).parent / "data" / "cablecast_models.json").read_text()
)["models"]
JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def assert_model(record: dict[str, Any], model: str) -> None:
    """`record` has exactly `model`'s fields, each null or of the documented JSON type."""
    spec = MODELS[model]
    assert sorted(record) == sorted(spec), f"{model}: fields differ"
    wrong = {f: record[f] for f, kind in spec.items() if record[f] is not None}
    wrong = {f: v for f, v in wrong.items() if not JSON_TYPES[spec[f]](v)}
    assert not wrong, f"{model}: wrong types {wrong}"


# (path, envelope key, model, list?) -- ShowDto, VodDto ... as printed in the export
SERVED = [
    ("/shows", "shows", "ShowDto", True),
    ("/shows/1", "show", "ShowDto", False),
    ("/scheduleitems?page_size=50", "scheduleItems", "ScheduleItemDto", True),
    ("/scheduleitems/1", "scheduleItem", "ScheduleItemDto", False),
    ("/vods", "vods", "VodDto", True),
    ("/vods/1", "vod", "VodDto", False),
    ("/vods/1/status", "vodStatus", "VodStatusDto", False),
    ("/vodtransactions", "vodTransactions", "VodTransactionDto", True),
    ("/vodtransactions/1001", "vodTransaction", "VodTransactionDto", False),
    ("/livestreams", "liveStreams", "LiveStreamReadDto", True),
    ("/livestreams/1", "liveStream", "LiveStreamReadDto", False),
    ("/thumbnails", "thumbnails", "ThumbnailDto", True),
    ("/thumbnails/1", "thumbnail", "ThumbnailDto", False),
    ("/qualities", "vodTranscodeQualities", "VodTranscodeQualityDto", True),
    ("/qualities/1", "vodTranscodeQuality", "VodTranscodeQualityDto", False),
    ("/vodconfigurations", "vodConfigurations", "VodConfigurationDto", True),
    ("/locations", "locations", "LocationDTO", True),
    ("/categories", "categories", "CategoryDTO", True),
    ("/producers", "producers", "ProducerDto", True),
    ("/projects", "projects", "ProjectDTO", True),
    ("/reels", "reels", "ReelDTO", True),
    ("/showfields", "showFields", "ShowFieldDto", True),
    ("/showfields", "fieldDefinitions", "FieldDefinitionDto", True),
]


@pytest.mark.parametrize(
    ("path", "key", "model", "many"), SERVED, ids=[s[0] + " " + s[2] for s in SERVED]
)
def test_records_have_exactly_the_models_fields(
    cablecast_api: httpx.Client, path: str, key: str, model: str, many: bool
) -> None:
    resp = cablecast_api.get(path)
    assert resp.status_code == 200
    body = resp.json()
    records = body[key] if many else [body[key]]
    assert records
    for record in records:
        assert_model(record, model)


def test_show_custom_fields_and_thumbnail_image_are_their_models(
    cablecast_api: httpx.Client,
) -> None:
    """ShowDto.thumbnailImage is a ThumbnailImageDto; wp-cablecast downloads its url."""
    show = cablecast_api.get("/shows/1").json()["show"]
    assert_model(show["thumbnailImage"], "ThumbnailImageDto")
    assert show["thumbnailImage"]["url"].startswith("http://127.0.0.1:")
    for custom in show["customFields"]:
        assert_model(custom, "ShowCustomFieldDto")


def test_transaction_type_is_an_integer_state_through_the_lifecycle(
    cablecast_api: httpx.Client,
) -> None:
    """VodDto/VodTransactionDto.transactionType: integer($int32), 'the state the VOD is now in'."""
    show = cablecast_api.post("/shows", json={"show": {"title": "Models"}}).json()["show"]["id"]
    vod = cablecast_api.post("/vods", json={"vod": {"show": show}}).json()["vod"]
    assert_model(vod, "VodDto")
    assert vod["vodState"] == "queued" and vod["transactionType"] == 1
    transactions = cablecast_api.get("/vodtransactions", params={"vod": vod["id"]}).json()
    for transaction in transactions["vodTransactions"]:
        assert_model(transaction, "VodTransactionDto")
    last = transactions["vodTransactions"][-1]["id"]
    one = cablecast_api.get(f"/vodtransactions/{last}").json()
    assert list(one) == list(MODELS["VodTransactionResource"])
    assert one["vodTransaction"]["vod"] == vod["id"]


def test_failed_vod_ends_with_the_error_transaction_type(cablecast_api: httpx.Client) -> None:
    """vodState enum index: error = 5; VodDto keeps its fields, url null, errorMessage set."""
    show = cablecast_api.post("/shows", json={"show": {"title": "FAIL_VOD run"}}).json()["show"]
    vod_id = cablecast_api.post("/vods", json={"vod": {"show": show["id"]}}).json()["vod"]["id"]
    deadline = time.monotonic() + 10
    vod = cablecast_api.get(f"/vods/{vod_id}").json()["vod"]
    while vod["vodState"] not in ("complete", "error"):
        assert time.monotonic() < deadline, "VOD did not finish"
        time.sleep(0.05)  # poll interval, not synchronisation: the loop waits on the state
        vod = cablecast_api.get(f"/vods/{vod_id}").json()["vod"]
    assert_model(vod, "VodDto")
    assert (vod["vodState"], vod["transactionType"], vod["url"]) == ("error", 5, None)
    assert vod["errorMessage"] and vod["isWatchable"] is False
    transactions = cablecast_api.get("/vodtransactions", params={"vod": vod_id}).json()
    assert transactions["vodTransactions"][-1]["transactionType"] == 5


def test_vod_transaction_by_id_needs_auth_and_404s_when_unknown(cablecast_base: str) -> None:
    with httpx.Client(base_url=cablecast_base + API, timeout=10) as anonymous:
        assert anonymous.get("/vodtransactions/1001").status_code == 401
        assert anonymous.get("/vodtransactions/1001", auth=AUTH).status_code == 200
        assert anonymous.get("/vodtransactions/999999", auth=AUTH).status_code == 404


def test_thumbnail_ids_are_strings(cablecast_api: httpx.Client) -> None:
    """ThumbnailDto.id and ShowDto.showThumbnails are strings; include=thumbnail sideloads them."""
    body = cablecast_api.get("/shows", params={"ids[]": 2, "include": "thumbnail"}).json()
    wanted = body["shows"][0]["showThumbnails"]
    assert wanted and all(isinstance(i, str) for i in wanted)
    assert [t["id"] for t in body["thumbnails"]] == wanted
    assert cablecast_api.get(f"/thumbnails/{wanted[0]}").json()["thumbnail"]["id"] == wanted[0]


def test_quality_envelopes_are_vod_transcode_qualities(cablecast_api: httpx.Client) -> None:
    """VodTranscodeQualitiesResource / VodTranscodeQualityResource envelope keys."""
    assert list(cablecast_api.get("/qualities").json()) == list(
        MODELS["VodTranscodeQualitiesResource"]
    )
    assert list(cablecast_api.get("/qualities/1").json()) == list(
        MODELS["VodTranscodeQualityResource"]
    )
    config = cablecast_api.get("/vodconfigurations/1").json()["vodConfiguration"]
    qualities = cablecast_api.get("/qualities").json()["vodTranscodeQualities"]
    assert sorted(config["vodTranscodeQualities"]) == [q["id"] for q in qualities]
    assert {q["vodProvider"] for q in qualities} == {config["id"]}


def test_showfields_and_livestreams_envelopes_are_their_resources(
    cablecast_api: httpx.Client,
) -> None:
    """ShowFieldsResource: showFields, fieldDefinitions; LiveStreamsResource: + liveTransactions."""
    assert sorted(cablecast_api.get("/showfields").json()) == sorted(MODELS["ShowFieldsResource"])
    assert sorted(cablecast_api.get("/livestreams").json()) == sorted(MODELS["LiveStreamsResource"])


def test_vod_status_envelope(cablecast_api: httpx.Client) -> None:
    body = cablecast_api.get("/vods/1/status").json()
    assert list(body) == list(MODELS["VodStatusResource"])
    assert_model(body["vodStatus"], "VodStatusDto")


def test_written_records_have_exactly_the_models_fields(cablecast_api: httpx.Client) -> None:
    """POST shows / scheduleitems answer full ShowDto / ScheduleItemDto records."""
    show = cablecast_api.post(
        "/shows", json={"show": {"title": "Written", "custom1": "ep-1"}}
    ).json()["show"]
    assert_model(show, "ShowDto")
    assert show["custom1"] == "ep-1"
    item = cablecast_api.post(
        "/scheduleitems",
        json={
            "scheduleItem": {"channel": 1, "show": show["id"], "runDateTime": "2030-01-01T10:00:00"}
        },
    ).json()["scheduleItem"]
    assert_model(item, "ScheduleItemDto")
    assert item["idType"] == 1 and item["show"] == show["id"]


def test_include_webfile_follows_show_files(cablecast_api: httpx.Client) -> None:
    """ShowDto.showFiles are ShowFile ids (ShowFileDto.file is the WebFile); wp-cablecast asks
    for include=reel,vod,webfile (includes/sync.php)."""
    body = cablecast_api.get("/shows", params={"ids[]": 3, "include": "reel,vod,webfile"}).json()
    assert body["shows"][0]["showFiles"] and body["webFiles"]
    assert all(w["show"] == 3 for w in body["webFiles"])


def test_saved_show_search_is_its_model(cablecast_api: httpx.Client) -> None:
    query = {"groups": [{"orAnd": "and", "filters": []}], "sortOptions": []}
    body = cablecast_api.post(
        "/shows/search/advanced", json={"savedShowSearch": {"query": query, "name": ""}}
    )
    assert_model(body.json()["savedShowSearch"], "SavedShowSearch")
