"""Data isolation: projects don't see each other's characters or episodes, and studios of
different xdist workers (namespaces) don't see each other's data in Redis or Chroma."""

from __future__ import annotations

import httpx
import pytest
import redis
from harness import WorkerBackends

from tests.integration.conftest import StartStudio, Studio

pytestmark = pytest.mark.isolation


def _character(studio: Studio, project: str, name: str) -> None:
    answer = studio.tool(
        {"tool": "create_character", "project_id": project, "name": name, "description": name},
    )
    assert answer["ok"], answer


def _similar(studio: Studio, project: str) -> list[str]:
    answer = studio.tool(
        {"tool": "find_similar_characters", "project_id": project, "description": "x", "limit": 50},
    )
    assert answer["ok"], answer
    return sorted(c["name"] for c in answer["result"])


@pytest.mark.e2e
def test_projects_do_not_see_each_others_characters_or_episodes(studio_intake: Studio) -> None:
    a, b = studio_intake.project(), studio_intake.project()
    _character(studio_intake, a, "only-in-a")
    _character(studio_intake, b, "only-in-b")
    studio_intake.episode(a)
    assert _similar(studio_intake, a) == ["only-in-a"]
    assert _similar(studio_intake, b) == ["only-in-b"]
    assert len(studio_intake.episodes(a)) == 1 and studio_intake.episodes(b) == []
    assert studio_intake.episode(b)["number"] == 1  # numbering is per project


@pytest.mark.e2e
def test_studios_of_different_workers_share_no_data(
    studio_intake: Studio,
    start_studio: StartStudio,
    harness_namespace: str,
    backends: WorkerBackends,
) -> None:
    other = start_studio("neighbour", 0, namespace=f"{harness_namespace}-neighbour")
    mine = studio_intake.project("same-name")
    theirs = other.project("same-name")
    _character(studio_intake, mine, "mine")
    _character(other, theirs, "theirs")

    # Redis: each studio's keys live under its own prefix; neither resolves the other's ids
    missing = httpx.get(f"{other.url}/projects/{mine}", timeout=30)
    assert missing.status_code == 404
    assert httpx.get(f"{studio_intake.url}/projects/{theirs}", timeout=30).status_code == 404
    address = backends.address("redis")
    with redis.Redis(host=address.host, port=address.port, db=0, decode_responses=True) as db:
        for project, prefix in ((mine, studio_intake.prefix), (theirs, other.prefix)):
            keys = list(db.scan_iter(f"*{project}*", count=1000))
            assert keys and all(key.startswith(f"{prefix}:") for key in keys), keys
    # Chroma: a different tenant; the neighbour's project has only its own character
    assert _similar(studio_intake, mine) == ["mine"]
    assert _similar(other, theirs) == ["theirs"]
    assert other.tool(
        {"tool": "find_similar_characters", "project_id": mine, "description": "mine"},
    ) == {"ok": False, "error": f"project {mine} not found"}
