"""The compose file keeps the topology's promises (parsed without Docker)."""

from __future__ import annotations

import pytest
import yaml

from harness import _paths, topology
from harness.errors import UnknownService

SERVICES = ["redis", "chromadb", "litellm", "comfyui", "wan2gp", "cablecast"]


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(_paths.compose_file().read_text())


def test_topology_lists_every_backend_with_its_client_port() -> None:
    stack = topology.load()
    assert stack.names == SERVICES
    assert stack.get("comfyui").container_port == 8188
    assert stack.get("wan2gp").container_port == 7860
    assert stack.get("chromadb").container_port == 8000


def test_every_service_is_healthchecked_labeled_and_published_on_loopback(document: dict) -> None:
    for name, service in document["services"].items():
        assert service["healthcheck"]["test"], name
        assert "org.mediastack-harness.run" in service["labels"], name
        assert service["init"] is True, name
        assert all(str(port).startswith("127.0.0.1:") for port in service.get("ports", [])), name
    proxy = document["services"]["toxiproxy"]
    assert proxy["network_mode"] == "host" and "-host=127.0.0.1" in proxy["command"]
    for kind in ("networks", "volumes"):
        for name, resource in document[kind].items():
            assert "org.mediastack-harness.run" in resource["labels"], name


def test_chroma_health_is_the_v2_heartbeat(document: dict) -> None:
    assert "/api/v2/heartbeat" in " ".join(document["services"]["chromadb"]["healthcheck"]["test"])


def test_image_env_var_overrides_the_pinned_default(monkeypatch: pytest.MonkeyPatch) -> None:
    redis = topology.load().get("redis")
    assert redis.image == redis.default_image == "redis:7.0.15-bookworm"
    monkeypatch.setenv("HARNESS_REDIS_IMAGE", "registry.example/redis:7")
    assert redis.image == "registry.example/redis:7"


def test_unknown_service_lists_the_known_ones() -> None:
    with pytest.raises(UnknownService, match="known services: redis, chromadb"):
        topology.load().select(["redis", "kafka"])


def test_the_studio_is_an_app_of_its_profile_not_a_backend(document: dict) -> None:
    stack = topology.load()
    studio = stack.app("studio")
    assert "studio" not in stack.names and studio.profile == "studio"
    assert set(studio.needs) == set(SERVICES)
    spec = document["services"]["studio"]
    assert spec["network_mode"] == "host" and "127.0.0.1" in spec["command"]
    proxied = [value for key, value in spec["environment"].items() if key.endswith("_URL")]
    assert proxied and all("${HARNESS_PROXY_" in value for value in proxied)
    assert [app.name for app in stack.apps_of(["studio"])] == ["studio"]
    assert stack.apps_of([]) == []


def test_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(UnknownService, match="unknown profile 'gpu'; known profiles: studio"):
        topology.load().apps_of(["gpu"])
