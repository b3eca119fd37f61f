"""The HTTP/SSE/WebSocket API on an in-memory Redis, with fakes for the embedding backends."""

from __future__ import annotations

import json
import math
import socket
from collections.abc import Iterator
from typing import Any

import fakeredis
import pytest
from fastapi.testclient import TestClient

from studio import StudioSettings, _backends, create_app


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeLlm:
    """Deterministic 3-dim 'embeddings' from letter counts."""

    async def embed(self, text: str) -> list[float]:
        t = text.lower()
        return [t.count("a") + 0.1, t.count("e") + 0.1, t.count("o") + 0.1]


class FakeIndex:
    """In-memory character index with cosine distance."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, tuple[str, str, list[float]]]] = {}

    async def add(self, project: str, cid: str, name: str, desc: str, vec: list[float]) -> None:
        self.rows.setdefault(project, {})[cid] = (name, desc, vec)

    async def similar(self, project: str, vec: list[float], limit: int) -> list[dict[str, Any]]:
        def dist(other: list[float]) -> float:
            dot = sum(a * b for a, b in zip(vec, other, strict=True))
            return 1 - dot / (math.hypot(*vec) * math.hypot(*other))

        ranked = sorted(self.rows.get(project, {}).items(), key=lambda item: dist(item[1][2]))
        return [
            {"id": cid, "name": n, "description": d, "distance": dist(v)}
            for cid, (n, d, v) in ranked[:limit]
        ]


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    server = fakeredis.FakeServer()

    class FakeRedisFactory:
        @staticmethod
        def from_url(url: str, **_kw: Any) -> fakeredis.FakeAsyncRedis:
            return fakeredis.FakeAsyncRedis(server=server, decode_responses=True)

    monkeypatch.setattr(_backends, "Redis", FakeRedisFactory)
    dead = f"http://127.0.0.1:{closed_port()}"
    settings = StudioSettings(
        workers=0,
        chroma_url=dead,
        litellm_url=dead,
        comfyui_url=dead,
        wan2gp_url=dead,
        cablecast_url=dead,
        health_timeout=3,
        retry_attempts=1,
    )
    app = create_app(settings)
    app.state.ctx.llm = FakeLlm()
    app.state.ctx.characters = FakeIndex()
    with TestClient(app) as test_client:
        yield test_client


def sse_events(text: str) -> list[dict[str, str]]:
    out = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            out.append(fields)
    return out


def test_episode_creation_listing_and_idempotency(client: TestClient) -> None:
    project = client.post("/projects", json={"name": "Show"})
    assert project.status_code == 201
    pid = project.json()["id"]
    path = f"/projects/{pid}/episodes"
    first = client.post(path, json={"title": "Pilot"}, headers={"Idempotency-Key": "k1"})
    again = client.post(path, json={"title": "Pilot"}, headers={"Idempotency-Key": "k1"})
    other = client.post(path, json={"title": "Two"})
    assert first.status_code == again.status_code == other.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert (
        again.headers["Idempotent-Replayed"] == "true"
        and "Idempotent-Replayed" not in first.headers
    )
    assert [first.json()["number"], other.json()["number"]] == [1, 2]
    conflict = client.post(path, json={"title": "Else"}, headers={"Idempotency-Key": "k1"})
    assert conflict.status_code == 422
    listed = client.get(path).json()["episodes"]
    assert [(e["number"], e["state"]) for e in listed] == [(1, "queued"), (2, "queued")]
    episode = client.get(f"/episodes/{first.json()['id']}").json()
    assert episode["title"] == "Pilot" and episode["project_id"] == pid
    missing = client.get("/episodes/nope")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "NotFound"
    assert client.post("/projects/nope/episodes", json={"title": "x"}).status_code == 404
    assert client.post(path, json={"title": ""}).status_code == 422


def test_sse_stream_ids_and_last_event_id_resume(client: TestClient) -> None:
    pid = client.post("/projects", json={"name": "Show"}).json()["id"]
    eid = client.post(f"/projects/{pid}/episodes", json={"title": "Pilot"}).json()["id"]
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    assert client.portal is not None
    client.portal.call(ctx.events.publish, eid, "step_started", {"step": "scripting"})
    client.portal.call(lambda: ctx.events.publish(eid, "completed", {}, state="completed"))
    events = sse_events(client.get(f"/episodes/{eid}/events").text)
    assert [e["event"] for e in events] == ["queued", "step_started", "completed"]
    assert all(e["id"] for e in events) and json.loads(events[-1]["data"])["state"] == "completed"
    resumed = sse_events(
        client.get(f"/episodes/{eid}/events", headers={"Last-Event-ID": events[0]["id"]}).text
    )
    assert [e["id"] for e in resumed] == [e["id"] for e in events[1:]]
    done = client.get(f"/episodes/{eid}/events", headers={"Last-Event-ID": events[-1]["id"]})
    assert sse_events(done.text) == []
    assert client.get("/episodes/nope/events").status_code == 404


def test_health_reports_each_dependency(client: TestClient) -> None:
    resp = client.get("/health")
    assert resp.status_code == 503
    body = resp.json()
    deps = body["dependencies"]
    assert body["status"] == "degraded"
    assert set(deps) == {"redis", "chromadb", "litellm", "comfyui", "wan2gp", "cablecast"}
    assert deps["redis"]["status"] == "ok"
    for name in ("chromadb", "litellm", "comfyui", "wan2gp", "cablecast"):
        assert deps[name]["status"] == "error" and deps[name]["message"], name


def test_config_get_put(client: TestClient) -> None:
    view = client.get("/config").json()
    assert view["litellm_key"] == "***" and view["workers"] == 0
    bad = client.put("/config", json={"nope": 1})
    assert bad.status_code == 422 and "unknown setting" in bad.json()["error"]["message"]
    invalid = client.put("/config", json={"comfyui_url": "nope"})
    assert invalid.status_code == 422
    ok = client.put("/config", json={"comfyui_url": "http://127.0.0.1:1", "namespace": "w9"})
    assert ok.status_code == 200
    assert ok.json()["reconnected"] == ["cablecast", "comfyui", "wan2gp"]
    assert client.get("/config").json()["namespace"] == "w9"


def test_metrics_exposition(client: TestClient) -> None:
    pid = client.post("/projects", json={"name": "Show"}).json()["id"]
    client.post(f"/projects/{pid}/episodes", json={"title": "Pilot"})
    text = client.get("/metrics").text
    assert 'studio_episodes{state="queued"} 1.0' in text
    assert (
        'studio_http_requests_total{method="POST",route="/projects/{project_id}/episodes",'
        'status="201"} 1.0'
    ) in text
    assert "studio_http_request_duration_seconds_bucket" in text
    assert "studio_pipeline_step_duration_seconds" in text
    assert f'studio_episode_number_gaps{{project="{pid}"}} 0.0' in text
    assert f'studio_episode_number_duplicates{{project="{pid}"}} 0.0' in text


def test_websocket_tools(client: TestClient) -> None:
    pid = client.post("/projects", json={"name": "Show"}).json()["id"]
    with client.websocket_connect("/ws/tools") as ws:
        for name, desc in (("Ada", "a bold aviator"), ("Eve", "eerie engineer here")):
            ws.send_json(
                {
                    "tool": "create_character",
                    "project_id": pid,
                    "name": name,
                    "description": desc,
                    "id": name,
                }
            )
            reply = ws.receive_json()
            assert reply["ok"] and reply["id"] == name and reply["result"]["name"] == name
        ws.send_json(
            {
                "tool": "find_similar_characters",
                "project_id": pid,
                "description": "a bold aviator",
                "limit": 1,
            }
        )
        similar = ws.receive_json()
        assert similar["ok"] and [r["name"] for r in similar["result"]] == ["Ada"]
        ws.send_json({"tool": "find_similar_characters", "project_id": "nope", "description": "x"})
        assert ws.receive_json() == {"ok": False, "error": "project nope not found"}
        ws.send_json({"tool": "create_character", "project_id": pid})
        missing = ws.receive_json()
        assert (
            not missing["ok"] and "name" in missing["error"] and "description" in missing["error"]
        )
        ws.send_text("not json")
        assert ws.receive_json() == {"ok": False, "error": "message is not valid JSON"}
