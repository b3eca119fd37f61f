"""The compose file keeps the topology's promises (parsed without Docker)."""

from __future__ import annotations

import pytest
import yaml

from harness import _config as config
from harness import _overlay, _paths
from harness import _topology as topology
from harness._errors import UnknownService

SERVICES = ["redis", "chromadb", "litellm", "comfyui", "wan2gp", "cablecast"]


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(_paths.compose_file().read_text())


def test_topology_lists_every_backend_with_its_client_port() -> None:
    stack = topology.load()
    assert stack.names == [*SERVICES, "prometheus"]
    assert list(stack.defaults) == SERVICES  # the optional Prometheus only when listed
    assert stack.get("comfyui").container_port == 8188
    assert stack.get("wan2gp").container_port == 7860
    assert stack.get("chromadb").container_port == 8000


def test_every_service_is_healthchecked_labeled_and_published_where_the_stack_is(
    document: dict,
) -> None:
    for name, service in document["services"].items():
        assert service["healthcheck"]["test"], name
        assert "org.mediastack-harness.run" in service["labels"], name
        assert service["init"] is True, name
        assert "network_mode" not in service and service["networks"] == ["backend"], name
        assert service["ports"], name
        for port in service["ports"]:  # 127.0.0.1 unless HARNESS_PUBLISH_HOST says otherwise
            assert str(port).startswith("${HARNESS_PUBLISH_HOST:-127.0.0.1}:"), name
    proxy = document["services"]["toxiproxy"]
    assert "-host=0.0.0.0" in proxy["command"]
    pool = "${HARNESS_PUBLISH_HOST:-127.0.0.1}::${HARNESS_PROXY_POOL:-20000-20015}"
    assert pool in proxy["ports"]
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


PROJECT_COMPOSE = """\
services:
  postgres:
    build: ./pg
    ports: ["5432:5432"]
    healthcheck: {test: ["CMD", "true"]}
  api:
    build: .
    ports: ["8000:8000"]
    healthcheck: {test: ["CMD", "true"]}
volumes:
  pgdata: {}
"""

PROJECT_CONFIG = """\
backends = ["redis"]
compose-files = ["harness.compose.yaml"]
[extra-backends.postgres]
port = 5432
[services.api]
env = { DB = "postgresql://{postgres.host}:{postgres.port}/app", PORT = "{port}" }
[services.worker]
command = ["{python}", "-m", "worker"]
health = "/health"
needs = ["redis"]
"""


@pytest.fixture
def project(tmp_path, monkeypatch: pytest.MonkeyPatch) -> config.Project:
    (tmp_path / "harness.compose.yaml").write_text(PROJECT_COMPOSE)
    (tmp_path / "harness.toml").write_text(PROJECT_CONFIG)
    monkeypatch.setenv("HARNESS_STATE_DIR", str(tmp_path / ".harness"))
    return config.load_from(tmp_path / "harness.toml")


def test_a_project_adds_its_backends_and_services_under_test(project: config.Project) -> None:
    stack = topology._load(None, project)
    assert stack.defaults == ("redis", "postgres")
    assert [s.name for s in stack.select(None)] == ["redis", "postgres"]
    postgres = stack.get("postgres")
    assert postgres.own and postgres.container_port == 5432 and postgres.image == ""
    assert stack.service_under_test("worker").is_process
    assert stack.service_under_test("worker").needs == ("redis",)
    assert stack.service_under_test("api").needs == ("redis", "postgres")
    stack.reachable("api")
    with pytest.raises(UnknownService, match="unknown service under test 'redis'; declared: api"):
        stack.service_under_test("redis")


def test_the_overlay_labels_publishes_and_puts_services_under_test_on_the_backend_network(
    project: config.Project,
) -> None:
    stack = topology._load(None, project)
    written = _overlay.write(stack)
    assert written is not None
    text = written.read_text()
    publish = "${HARNESS_PUBLISH_HOST:-127.0.0.1}"
    assert f"ports: !override\n    - {publish}:${{HARNESS_POSTGRES_PORT:-}}:5432" in text
    assert f"ports: !override\n    - {publish}::${{HARNESS_API_PORT:-65535}}" in text
    overlay = yaml.safe_load(text.replace("!override", ""))
    for name in ("postgres", "api"):
        assert overlay["services"][name]["labels"]["org.mediastack-harness.run"]
    api = overlay["services"]["api"]
    assert "network_mode" not in api
    assert api["networks"] == ["backend", "default"]  # the project's own network kept
    assert api["extra_hosts"] == ["host.docker.internal:${HARNESS_HOST_GATEWAY:-host-gateway}"]
    assert api["environment"] == {
        "DB": "${HARNESS_ENV_API__DB:-}",
        "PORT": "${HARNESS_ENV_API__PORT:-}",
    }
    assert api["labels"]["org.mediastack-harness.app-port"] == "${HARNESS_API_PORT:-0}"
    assert overlay["services"]["postgres"]["networks"] == ["backend"]
    assert "worker" not in overlay["services"]  # a host process is no compose service
    assert overlay["volumes"]["pgdata"]["labels"]["org.mediastack-harness.owner"]
