"""Failure recovery: backends killed mid-pipeline and restarted, a backend down behind its proxy,
connections reset or blackholed on LiteLLM — the studio degrades, recovers, loses nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from harness import Faults, wait_for

from tests.integration.conftest import Studio

pytestmark = [pytest.mark.faults, pytest.mark.recovery]


@pytest.mark.exclusive_stack
@pytest.mark.parametrize("service", ["redis", "chromadb", "comfyui"])
def test_backend_killed_mid_pipeline_loses_and_duplicates_no_episode(
    studio: Studio, faults: Faults, service: str
) -> None:
    project = studio.project()
    first = [studio.episode(project, key=f"first-{n}")["id"] for n in range(2)]
    wait_for(
        lambda: any(studio.get_episode(e)["state"] != "queued" for e in first),
        60,
        "the pipeline to start",
    )
    errors_before = studio.backend_calls(service, "error")
    # many requests at once leave many idle connections in the studio's pools
    assert set(studio.burst(f"/episodes/{first[0]}", 30)) == {200}

    with ThreadPoolExecutor(max_workers=2) as clients, faults.kill(service):
        wait_for(lambda: studio.health()[1][service] == "error", 30, f"health to report {service}")
        code, states = studio.health()
        assert code == 503 and {n for n, s in states.items() if s == "error"} == {service}
        # users keep submitting during the outage, retrying like real clients
        during = [clients.submit(studio.episode, project, f"during-{n}", 120) for n in range(2)]
        if service != "redis":  # with Redis up the studio takes them at once
            wait_for(lambda: all(f.done() for f in during), 30, "episodes to be accepted")
        # stay down until the pipeline itself has hit the outage
        wait_for(
            lambda: studio.backend_calls(service, "error") > errors_before,
            60,
            f"the pipeline to meet the {service} outage",
        )
    # cleared: the container is started again, healthy, its proxies re-synced
    wait_for(studio.healthy, 60, "the studio to report every backend ok again")
    # pooled connections the restart broke are not handed to requests: first tries succeed
    assert set(studio.burst(f"/episodes/{first[0]}", 30)) == {200}
    episodes = first + [f.result()["id"] for f in during]
    replay = studio.episode(project, key="during-0", patience=30)  # a retried request
    assert replay["id"] == episodes[2]

    finals = studio.wait_terminal(episodes, 240)
    assert [f["state"] for f in finals] == ["completed"] * 4, [f.get("error") for f in finals]
    assert sorted(f["number"] for f in finals) == [1, 2, 3, 4]
    assert len(studio.episodes(project)) == 4
    assert len({f["vod"]["id"] for f in finals}) == 4  # one VOD each, none published twice


def test_litellm_down_behind_its_proxy_then_back(studio: Studio, faults: Faults) -> None:
    project = studio.project()
    with faults.down("litellm"):
        episode = studio.episode(project)["id"]
        wait_for(lambda: studio.health()[1]["litellm"] == "error", 30, "health to report litellm")
        wait_for(
            lambda: studio.get_episode(episode)["state"] == "scripting",
            30,
            "the episode to wait in scripting",
        )
    (final,) = studio.wait_terminal([episode], 180)
    assert final["state"] == "completed" and final["script"]


@pytest.mark.parametrize("toxic", ["reset_peer", "timeout"])
def test_litellm_connections_reset_or_blackholed_are_retried(
    studio: Studio, faults: Faults, toxic: str
) -> None:
    project = studio.project()
    errors_before = studio.backend_calls("litellm", "error")
    fault = faults.reset_peer("litellm") if toxic == "reset_peer" else faults.timeout("litellm")
    with fault:
        episode = studio.episode(project)["id"]
        wait_for(
            lambda: studio.backend_calls("litellm", "error") > errors_before,
            60,
            f"a LiteLLM call to fail under {toxic}",
        )
    (final,) = studio.wait_terminal([episode], 180)
    assert final["state"] == "completed" and final["script"]
    assert studio.backend_calls("litellm", "ok") > 0
