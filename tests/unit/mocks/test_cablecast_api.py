"""Cablecast stub conformance through httpx: envelopes, paging, include, ids[], search, auth."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest

AUTH = ("admin", "admin")
API = "/cablecastapi/v1"


@pytest.fixture(scope="module")
def base(mock_server_module: Callable[..., str]) -> str:
    return mock_server_module("cablecast", "--seed", "3", "--shows", "30")


@pytest.fixture
def api(base: str, namespace: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=base + API, headers={"X-Harness-Namespace": namespace}, timeout=10
    ) as client:
        yield client


def test_collections_use_plural_envelopes(api: httpx.Client) -> None:
    for path, key in [
        ("/channels", "channels"),
        ("/categories", "categories"),
        ("/producers", "producers"),
        ("/projects", "projects"),
        ("/locations", "locations"),
        ("/livestreams", "liveStreams"),
        ("/vodconfigurations", "vodConfigurations"),
        ("/qualities", "vodTranscodeQualities"),
    ]:
        body = api.get(path).json()
        assert isinstance(body[key], list) and body[key], path
        assert all(isinstance(item["id"], int) for item in body[key])


def test_single_resources_use_singular_envelopes(api: httpx.Client) -> None:
    assert api.get("/shows/1").json()["show"]["id"] == 1
    assert api.get("/channels/2").json()["channel"]["name"] == "Channel 2"
    assert api.get("/vodconfigurations/1").json()["vodConfiguration"]["id"] == 1
    missing = api.get("/shows/9999")
    assert missing.status_code == 404 and "9999" in missing.json()["message"]


def test_showfields_returns_both_keys(api: httpx.Client) -> None:
    body = api.get("/showfields").json()
    assert body["showFields"] and body["fieldDefinitions"]


def test_prefix_is_case_insensitive(base: str, namespace: str) -> None:
    headers = {"X-Harness-Namespace": namespace}
    lower = httpx.get(f"{base}/cablecastapi/v1/shows/2", headers=headers).json()
    mixed = httpx.get(f"{base}/CablecastAPI/v1/shows/2", headers=headers).json()
    assert lower == mixed and lower["show"]["id"] == 2


def test_pagination_meta(api: httpx.Client) -> None:
    body = api.get("/shows", params={"offset": 5, "page_size": 7}).json()
    assert body["meta"] == {"offset": 5, "pageSize": 7, "count": 30}
    assert [show["id"] for show in body["shows"]] == list(range(6, 13))
    tail = api.get("/shows", params={"offset": 28, "page_size": 7}).json()
    assert [show["id"] for show in tail["shows"]] == [29, 30]
    default = api.get("/shows").json()
    assert default["meta"]["pageSize"] == 20 and len(default["shows"]) == 20


def test_ids_filter_and_include_sideloads(api: httpx.Client) -> None:
    all_shows = api.get("/shows", params={"page_size": 100}).json()["shows"]
    with_vod = [s["id"] for s in all_shows if s["vods"]][:2]
    ids = [*with_vod, 3]
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("page_size", "100"),
        ("include", "reel,vod,webfile,thumbnail"),
        *(("ids[]", str(i)) for i in ids),
    ]
    resp = api.get("/shows", params=params)
    body = resp.json()
    assert sorted(s["id"] for s in body["shows"]) == sorted(set(ids))
    assert {r["show"] for r in body["reels"]} == set(ids)
    assert {v["id"] for v in body["vods"]} == {v for s in body["shows"] for v in s["vods"]}
    assert all(v["url"].startswith("http://127.0.0.1:") for v in body["vods"])
    assert all(v["vodState"] == "complete" and "<iframe" in v["embedCode"] for v in body["vods"])
    assert {w["show"] for w in body["webFiles"]} == set(ids)
    assert "reels" not in api.get("/shows", params={"ids[]": 1}).json()


def test_fields_projection(api: httpx.Client) -> None:
    shows = api.get("/shows", params={"page_size": 10000, "fields": "id"}).json()["shows"]
    assert len(shows) == 30 and all(set(show) == {"id"} for show in shows)


def test_invalid_query_parameters_get_400(api: httpx.Client) -> None:
    for params in ({"page_size": "abc"}, {"offset": "-1"}, {"ids[]": "x"}, {"page_size": "0"}):
        resp = api.get("/shows", params=params)
        assert resp.status_code == 400 and resp.json()["message"], params


def test_scheduleitems_window_and_channel(api: httpx.Client) -> None:
    today = datetime.now(UTC).date().isoformat()
    resp = api.get(
        "/scheduleitems",
        params={
            "start": today,
            "end": today,
            "channel": 2,
            "include_cg_exempt": "false",
            "page_size": 2000,
            "include": "show",
        },
    )
    body = resp.json()
    items = body["scheduleItems"]
    assert items and body["meta"]["count"] == len(items)
    assert all(i["channel"] == 2 and i["runDateTime"].startswith(today) for i in items)
    assert all(not i["cgExempt"] for i in items)
    assert {s["id"] for s in body["shows"]} == {i["show"] for i in items}
    run_times = [i["runDateTime"] for i in items]
    assert run_times == sorted(run_times)


def test_advanced_search_returns_ids_sorted(api: httpx.Client) -> None:
    shows = api.get("/shows", params={"page_size": 100}).json()["shows"]
    pivot = sorted(s["lastModified"] for s in shows)[10]
    search = {
        "savedShowSearch": {
            "query": {
                "groups": [
                    {
                        "orAnd": "and",
                        "filters": [
                            {
                                "field": "lastModified",
                                "operator": "greaterThan",
                                "searchValue": pivot,
                            }
                        ],
                    }
                ],
                "sortOptions": [
                    {"field": "lastModified", "descending": False},
                    {"field": "title", "descending": False},
                ],
            },
            "name": "",
        }
    }
    resp = api.post("/shows/search/advanced", json=search)
    assert resp.status_code == 200
    results = resp.json()["savedShowSearch"]["results"]
    expected = sorted(
        (s for s in shows if s["lastModified"] > pivot),
        key=lambda s: (s["lastModified"], s["title"].lower()),
    )
    assert results == [s["id"] for s in expected] and len(results) == 19


def test_advanced_search_or_group_and_bad_operator(api: httpx.Client) -> None:
    search = {
        "savedShowSearch": {
            "query": {
                "groups": [
                    {
                        "orAnd": "or",
                        "filters": [
                            {"field": "id", "operator": "equals", "searchValue": "2"},
                            {"field": "id", "operator": "equals", "searchValue": "5"},
                        ],
                    }
                ],
                "sortOptions": [],
            }
        }
    }
    assert api.post("/shows/search/advanced", json=search).json()["savedShowSearch"]["results"] == [
        2,
        5,
    ]
    bad = {
        "savedShowSearch": {
            "query": {
                "groups": [
                    {"filters": [{"field": "id", "operator": "sortaLike", "searchValue": "2"}]}
                ]
            }
        }
    }
    assert api.post("/shows/search/advanced", json=bad).status_code == 400
    assert api.post("/shows/search/advanced", json={"nope": 1}).status_code == 400


def test_writes_require_basic_auth(api: httpx.Client) -> None:
    body = {"show": {"title": "Unauthorised"}}
    anonymous = api.post("/shows", json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    wrong = api.post("/shows", json=body, auth=("admin", "nope"))
    assert wrong.status_code == 401
    assert api.delete("/shows/1").status_code == 401
    assert api.get("/shows/1").status_code == 200  # public read still works


def test_protected_reads_require_auth(api: httpx.Client) -> None:
    vod_id = api.get("/vods").json()["vods"][0]["id"]
    assert api.get(f"/vods/{vod_id}/status").status_code == 401
    assert api.get("/vodtransactions", params={"vod": vod_id}).status_code == 401
    assert api.get(f"/vods/{vod_id}/status", auth=AUTH).json()["vodStatus"]["id"] == vod_id


def test_show_crud_and_validation(api: httpx.Client) -> None:
    created = api.post("/shows", auth=AUTH, json={"show": {"title": "New Show", "category": 1}})
    assert created.status_code == 200
    show = created.json()["show"]
    assert show["title"] == "New Show" and show["category"] == 1 and show["id"] == 31
    updated = api.put(f"/shows/{show['id']}", auth=AUTH, json={"show": {"comments": "x"}})
    assert updated.json()["show"]["comments"] == "x"
    for bad in (
        {"show": {"title": ""}},
        {"show": {"title": "t", "category": 999}},
        {"title": "no envelope"},
        {"show": {"title": "t", "cgExempt": "yes"}},
    ):
        resp = api.post("/shows", auth=AUTH, json=bad)
        assert resp.status_code == 400 and resp.json()["message"], bad
    not_json = api.post(
        "/shows", auth=AUTH, content=b"{oops", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    assert api.delete(f"/shows/{show['id']}", auth=AUTH).status_code == 200
    assert api.get(f"/shows/{show['id']}").status_code == 404


def test_namespaces_are_isolated_and_reset(base: str, namespace: str) -> None:
    mine = {"X-Harness-Namespace": namespace}
    other = {"X-Harness-Namespace": namespace + "-other"}
    created = httpx.post(
        f"{base}{API}/shows", auth=AUTH, headers=mine, json={"show": {"title": "Only Mine"}}
    ).json()["show"]
    assert httpx.get(f"{base}{API}/shows/{created['id']}", headers=mine).status_code == 200
    assert httpx.get(f"{base}{API}/shows/{created['id']}", headers=other).status_code == 404
    assert httpx.post(f"{base}/__harness/reset", headers=mine).status_code < 300
    assert httpx.get(f"{base}{API}/shows/{created['id']}", headers=mine).status_code == 404
    assert httpx.get(f"{base}{API}/shows", headers=mine).json()["meta"]["count"] == 30


def test_journal_records_original_path(base: str, namespace: str) -> None:
    headers = {"X-Harness-Namespace": namespace}
    httpx.get(f"{base}/CablecastAPI/v1/channels", headers=headers)
    entries = httpx.get(f"{base}/__harness/requests", headers=headers).json()
    assert [e["path"] for e in entries] == ["/CablecastAPI/v1/channels"]
