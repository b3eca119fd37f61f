"""Every backend of the shared stack answers through a real client."""

from __future__ import annotations

import uuid

import httpx
import pytest

from harness._stack import Stack
from harness._topology import FRONT_SERVICES

pytestmark = pytest.mark.smoke


def test_redis_round_trip_and_queue(redis_client) -> None:
    redis_client.set("episode:1", "draft")
    redis_client.lpush("jobs", "render-1", "render-2")
    assert redis_client.get("episode:1") == b"draft"
    assert redis_client.brpop(["jobs"], timeout=2) == (b"jobs", b"render-1")


def test_chroma_stores_and_finds_explicit_embeddings(chroma_client) -> None:
    characters = chroma_client.create_collection(
        f"characters-{uuid.uuid4().hex[:8]}", embedding_function=None
    )
    characters.add(
        ids=["hero", "villain", "sidekick"],
        embeddings=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.9, 0.1, 0.0]],
        documents=["brave pilot", "dark lord", "loyal mechanic"],
    )
    found = characters.query(query_embeddings=[[1.0, 0.05, 0.0]], n_results=2)
    assert found["ids"][0] == ["hero", "sidekick"]
    assert chroma_client.heartbeat() > 0


def test_litellm_proxy_answers_chat_with_mock_response(openai_client) -> None:
    reply = openai_client.chat.completions.create(
        model="mock-gpt", messages=[{"role": "user", "content": "write episode 1"}]
    )
    assert reply.choices[0].message.content == "Hello from mock"
    assert reply.choices[0].finish_reason == "stop"


def test_litellm_proxy_streams(openai_client) -> None:
    stream = openai_client.chat.completions.create(
        model="mock-gpt", messages=[{"role": "user", "content": "stream it"}], stream=True
    )
    chunks = list(stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "Hello from mock"
    assert any(chunk.choices and chunk.choices[0].finish_reason == "stop" for chunk in chunks)


def test_litellm_proxy_embeds_and_refuses_without_key(openai_client, stack: Stack) -> None:
    embedding = openai_client.embeddings.create(model="mock-embed", input="hero")
    assert len(embedding.data[0].embedding) == 8
    response = httpx.post(
        f"{stack.address('litellm').url}/v1/chat/completions", json={"model": "mock-gpt"}
    )
    assert response.status_code == 401


def test_each_mock_is_healthy_on_its_address(mock_http) -> None:
    for service in ("comfyui", "wan2gp", "cablecast"):
        response = mock_http(service).get("/__harness/health")
        assert response.status_code == 200, service
        assert response.json()["service"] == service


def test_comfyui_and_wan2gp_and_cablecast_speak_their_protocols(mock_http) -> None:
    assert "devices" in mock_http("comfyui").get("/system_stats").json()
    assert mock_http("wan2gp").get("/").status_code == 200
    shows = mock_http("cablecast").get("/cablecastapi/v1/shows")
    assert shows.status_code == 200 and "shows" in shows.json()


def test_addresses_are_loopback_only(stack: Stack) -> None:
    for service in stack.running_services():
        if service not in FRONT_SERVICES:
            assert stack.address(service).host == "127.0.0.1"
    assert stack.http_layer.api().host == stack.proxy_api().host == "127.0.0.1"
