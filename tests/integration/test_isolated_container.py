"""The testcontainers path: a throwaway container from the same compose definition."""

from __future__ import annotations

import docker
import redis

from harness import _labels
from harness import _reaper as reaper
from harness._containers import definition, isolated


def test_isolated_redis_is_healthy_labeled_and_removed(isolated_service, harness_run: str) -> None:
    with_run = reaper.leftovers(harness_run).get("containers", [])
    service = isolated_service("redis")
    client = redis.Redis(host=service.address.host, port=service.address.port)
    assert client.ping()
    container = service.docker
    container.reload()
    assert container.labels[_labels.RUN] == harness_run
    assert container.attrs["State"]["Health"]["Status"] == "healthy"
    assert container.attrs["Config"]["Cmd"] == definition("redis").command
    labeled = reaper.leftovers(harness_run)["containers"]
    assert f"/{container.name}" in labeled and f"/{container.name}" not in with_run
    ryuk = docker.from_env().containers.list(all=True, filters={"name": "testcontainers-ryuk"})
    assert ryuk == [], "Ryuk is off: the harness's label reaper covers these containers"
    container.kill()  # destroying it touches nothing shared


def test_isolated_container_is_removed_when_its_context_ends(harness_run: str) -> None:
    with isolated("redis", harness_run) as started:
        container_id = started.docker.id
        assert redis.Redis(host="127.0.0.1", port=started.address.port).ping()
    remaining = docker.from_env().containers.list(all=True, filters={"id": container_id})
    assert remaining == []
