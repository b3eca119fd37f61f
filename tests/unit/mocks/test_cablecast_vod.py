"""Cablecast stub: VOD lifecycle (to complete and to error), transactions, chapters CRUD."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

AUTH = ("admin", "admin")
API = "/cablecastapi/v1"


@pytest.fixture
def base(cablecast_base: str) -> str:
    return cablecast_base


@pytest.fixture
def api(cablecast_api: httpx.Client) -> httpx.Client:
    return cablecast_api


def _follow(api: httpx.Client, vod_id: int, deadline_s: float = 10) -> list[dict[str, Any]]:
    """Poll the VOD status until a terminal state; return the distinct statuses seen."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        status = api.get(f"/vods/{vod_id}/status").json()["vodStatus"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status["vodState"] in ("complete", "error"):
            return seen
    raise AssertionError(f"VOD {vod_id} did not finish: {seen}")


def _new_show(api: httpx.Client, title: str) -> int:
    return int(api.post("/shows", json={"show": {"title": title}}).json()["show"]["id"])


def test_vod_goes_queued_processing_complete(api: httpx.Client) -> None:
    show_id = _new_show(api, "Council Meeting")
    created = api.post("/vods", json={"vod": {"show": show_id, "quality": 1}})
    assert created.status_code == 200
    vod = created.json()["vod"]
    assert vod["vodState"] == "queued" and vod["url"] is None and vod["embedCode"] is None
    seen = _follow(api, vod["id"])
    states = [s["vodState"] for s in seen]
    assert states[0] == "queued" and states[-1] == "complete" and "processing" in states
    percents = [s["percentComplete"] for s in seen]
    assert percents == sorted(percents) and percents[-1] == 100
    assert any(0 < p < 100 for p in percents)
    final = api.get(f"/vods/{vod['id']}").json()["vod"]
    assert final["url"].startswith("http://127.0.0.1:") and "<iframe" in final["embedCode"]
    assert api.get(f"/shows/{show_id}").json()["show"]["vods"] == [vod["id"]]
    tx = api.get("/vodtransactions", params={"vod": vod["id"]}).json()["vodTransactions"]
    # transactionType is an integer: the index of the state in VodDto.vodState's enum
    assert [t["transactionType"] for t in tx] == [1, 2, 2, 2, 4]  # queued, 3 steps, complete


def test_vod_error_forced_by_title_token(api: httpx.Client) -> None:
    show_id = _new_show(api, "Broken FAIL_VOD upload")
    vod_id = api.post("/vods", json={"vod": {"show": show_id}}).json()["vod"]["id"]
    final = _follow(api, vod_id)[-1]
    assert final["vodState"] == "error" and final["errorMessage"]
    assert final["percentComplete"] < 100
    assert api.get(f"/vods/{vod_id}").json()["vod"]["url"] is None


def test_vod_error_forced_by_namespace_setting(
    base: str, api: httpx.Client, namespace: str
) -> None:
    headers = {"X-Harness-Namespace": namespace}
    resp = httpx.put(
        f"{base}/__harness/cablecast/settings",
        headers=headers,
        json={"failVods": True, "stepSeconds": 0},
    )
    assert resp.json()["failVods"] is True
    vod = api.post("/vods", json={"vod": {"show": 1}}).json()["vod"]
    assert vod["vodState"] == "error"  # zero step time: terminal at once
    other = {"X-Harness-Namespace": namespace + "-b"}
    assert (
        httpx.get(f"{base}/__harness/cablecast/settings", headers=other).json()["failVods"] is False
    )
    httpx.post(f"{base}/__harness/reset", headers=headers)
    assert (
        httpx.get(f"{base}/__harness/cablecast/settings", headers=headers).json()["failVods"]
        is False
    )
    bad = httpx.put(
        f"{base}/__harness/cablecast/settings", headers=headers, json={"stepSeconds": -1}
    )
    assert bad.status_code == 400


def test_vod_invalid_input_400(api: httpx.Client) -> None:
    bodies: list[dict[str, Any]] = [
        {"vod": {}},
        {"vod": {"show": 99999}},
        {"vod": {"show": "1"}},
        {"vod": {"show": 1, "quality": 77}},
        {"show": 1},
    ]
    for body in bodies:
        resp = api.post("/vods", json=body)
        assert resp.status_code == 400 and resp.json()["message"], body
    assert api.get("/vods/424242/status").status_code == 404


def test_vod_requires_auth(base: str, namespace: str) -> None:
    resp = httpx.post(
        f"{base}{API}/vods", json={"vod": {"show": 1}}, headers={"X-Harness-Namespace": namespace}
    )
    assert resp.status_code == 401 and "Basic" in resp.headers["www-authenticate"]


def test_chapters_crud(api: httpx.Client) -> None:
    vod_id = api.post("/vods", json={"vod": {"show": 2}}).json()["vod"]["id"]
    first = api.post(
        "/chapters", json={"chapter": {"vod": vod_id, "title": "Intro", "offset": 0}}
    ).json()["chapter"]
    second = api.post(
        "/chapters",
        json={"chapter": {"vod": vod_id, "title": "Vote", "body": "Item 4", "offset": 600}},
    )
    assert second.status_code == 200
    chapter = second.json()["chapter"]
    listed = api.get("/chapters", params={"vod": vod_id}).json()["chapters"]
    assert [(c["title"], c["offset"]) for c in listed] == [("Intro", 0), ("Vote", 600)]
    assert api.get(f"/vods/{vod_id}").json()["vod"]["chapters"] == [first["id"], chapter["id"]]
    moved = api.put(f"/chapters/{chapter['id']}", json={"chapter": {"offset": 660}})
    assert moved.json()["chapter"]["offset"] == 660
    assert api.delete(f"/chapters/{first['id']}").status_code == 200
    after = {c["id"]: c for c in api.get("/chapters", params={"vod": vod_id}).json()["chapters"]}
    assert after[first["id"]]["deleted"] is True and after[chapter["id"]]["deleted"] is False
    for bad in (
        {"chapter": {"vod": vod_id, "title": "x", "offset": -5}},
        {"chapter": {"vod": 99999, "title": "x"}},
        {"chapter": {"vod": vod_id, "title": ""}},
    ):
        resp = api.post("/chapters", json=bad)
        assert resp.status_code == 400 and resp.json()["message"], bad
    anonymous = httpx.post(
        str(api.base_url).rstrip("/") + "/chapters", json={"chapter": {"vod": vod_id, "title": "x"}}
    )
    assert anonymous.status_code == 401
