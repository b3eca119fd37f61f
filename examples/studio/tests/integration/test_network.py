"""Network disruption: latency on ComfyUI, real packet loss on Redis, Chroma cut off."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from harness import Faults, wait_for

from tests.integration.conftest import Studio

pytestmark = [pytest.mark.faults, pytest.mark.network]


def _keyframe_seconds(studio: Studio, episode: str) -> float:
    stream = studio.follow(episode)
    assert stream[-1].event == "completed", [e.event for e in stream][-4:]
    (step,) = [
        e for e in stream if e.event == "step_completed" and e.data["step"] == "rendering_keyframes"
    ]
    return float(step.data["seconds"])


def test_500ms_latency_on_comfyui_makes_episodes_slower_not_failed(
    studio: Studio, faults: Faults
) -> None:
    project = studio.project()
    baseline = _keyframe_seconds(studio, studio.episode(project)["id"])
    with faults.latency("comfyui", ms=500):
        slowed = _keyframe_seconds(studio, studio.episode(project)["id"])
    # every keyframe takes several round trips (prompt, history, view), each 500 ms later
    assert slowed >= baseline + 2.0, (baseline, slowed)


@pytest.mark.exclusive_stack
def test_30_percent_packet_loss_on_redis_loses_no_data(
    studio_intake: Studio, faults: Faults, redis_client
) -> None:
    project = studio_intake.project()
    with faults.loss("redis", percent=30):

        def user(n: int) -> list[dict]:
            return [
                studio_intake.episode(project, key=f"u{n}-e{i}", patience=120) for i in range(4)
            ]

        with ThreadPoolExecutor(max_workers=5) as pool:
            created = [episode for batch in pool.map(user, range(5)) for episode in batch]
        under_loss = studio_intake.episodes(project)
    assert sorted(e["number"] for e in created) == list(range(1, 21))
    after = studio_intake.episodes(project)
    assert sorted(e["id"] for e in after) == sorted(e["id"] for e in created)
    assert sorted(e["id"] for e in under_loss) == sorted(e["id"] for e in created)


def test_chroma_cut_off_gives_a_clear_error_then_recovers(studio: Studio, faults: Faults) -> None:
    project = studio.project()
    create = {
        "tool": "create_character",
        "project_id": project,
        "name": "Ada",
        "description": "brave pilot",
    }
    find = {"tool": "find_similar_characters", "project_id": project, "description": "pilot"}
    assert studio.tool(create)["ok"]
    # a partition: packets to Chroma vanish (no refusal, no reset), both ways
    with faults.timeout("chromadb", direction="upstream"), faults.timeout("chromadb"):
        answer = studio.tool(find)
        assert not answer["ok"] and answer["error"].startswith("chromadb: query failed")
        code, states = studio.health()
        assert code == 503 and states["chromadb"] == "error" and states["redis"] == "ok"
    wait_for(studio.healthy, 30, "the studio to reach Chroma again")
    found = studio.tool(find)
    assert found["ok"] and [c["name"] for c in found["result"]] == ["Ada"]
