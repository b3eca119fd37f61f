"""Wan2GP mock conformance through gradio_client (1.10, as pinned by gradio 5.29) and httpx."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from mocks.wan2gp._video import frame_pixels

CHAIN = [
    "/validate_wizard_prompt",
    "/save_inputs",
    "/process_prompt_and_add_tasks",
    "/prepare_generate_media",
    "/activate_status",
    "/process_tasks",
    "/finalize_generation",
    "/refresh_status_async",
    "/refresh_gallery",
    "/abort_generation",
    "/clear_queue_action",
    "/init_generate",
    "/update_status",
]


@pytest.fixture(scope="module")
def base(mock_server_module: Callable[..., str]) -> str:
    return mock_server_module("wan2gp", "--step-seconds", "0.02", "--seed", "5", timeout=90)


@pytest.fixture
def client(base: str, namespace: str) -> Iterator[Client]:
    gradio = Client(base + "/", headers={"X-Harness-Namespace": namespace}, verbose=False)
    try:
        yield gradio
    finally:
        gradio.close()


def _enqueue(
    client: Client,
    prompt: str,
    frames: int = 17,
    steps: int = 3,
    seed: int = 7,
    resolution: str = "832x480",
) -> str:
    """validate -> save_inputs -> process_prompt_and_add_tasks; returns the queue HTML."""
    assert client.predict("off", "", prompt, "", api_name="/validate_wizard_prompt") == prompt
    client.predict(prompt, "", resolution, frames, seed, steps, 5.0, 5.0, api_name="/save_inputs")
    queue = client.predict(0, "t2v_1.3B", api_name="/process_prompt_and_add_tasks")
    client.predict(api_name="/prepare_generate_media")
    return str(queue["value"] if isinstance(queue, dict) else queue)


def _gallery_files(client: Client) -> list[str]:
    gallery = client.predict(api_name="/refresh_gallery")[0]
    return [item["video"] for item in gallery["value"]]


def _wait_for(condition: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)  # poll interval while waiting on a condition (with deadline)
    raise AssertionError("condition not met before the deadline")


def test_view_api_exposes_wan2gp_function_names(client: Client) -> None:
    info = client.view_api(return_format="dict", print_info=False)
    names = set(info["named_endpoints"])
    assert set(CHAIN) <= names
    params = [p["parameter_name"] for p in info["named_endpoints"]["/save_inputs"]["parameters"]]
    assert params[:4] == ["prompt", "negative_prompt", "resolution", "video_length"]
    assert "state" not in params and "target" not in params  # gr.State inputs are hidden
    tasks = info["named_endpoints"]["/process_prompt_and_add_tasks"]["parameters"]
    assert [p["parameter_name"] for p in tasks] == ["current_gallery_tab", "model_choice"]


def test_generation_chain_produces_a_real_mp4(client: Client, base: str, namespace: str) -> None:
    queue = _enqueue(client, "a red fox in snow", frames=24, steps=3, seed=1234)
    assert "a red fox in snow" in queue
    assert client.predict(api_name="/activate_status")
    status_job = client.submit(api_name="/refresh_status_async")
    job = client.submit(api_name="/process_tasks")
    job.result(timeout=60)
    assert len(job.outputs()) >= 1 + 3 + 1  # start, one per denoising step, one per file
    statuses = status_job.outputs() if status_job.result(timeout=30) is not None else []
    assert any("Denoising Step" in s for s in statuses)
    assert statuses[-1].startswith("Total Generation Time")
    finalized = client.predict(api_name="/finalize_generation")
    files = [item["video"] for item in finalized[1]["value"]]
    assert len(files) == 1 and Path(files[0]).suffix == ".mp4"
    with av.open(files[0]) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        assert stream.average_rate == 16
        assert container.duration is not None and abs(container.duration / 1e6 - 1.5) < 0.01
    assert len(frames) == 24 and frames[0].shape == (36, 64, 3)
    expected = frame_pixels("a red fox in snow", 1234, 0, 64, 36)
    assert abs(int(frames[0][18, 40].astype(int).sum()) - int(expected[18, 40].sum())) < 30
    journal = httpx.get(
        f"{base}/__harness/requests", headers={"X-Harness-Namespace": namespace}
    ).json()
    assert any("/gradio_api/file=" in e["path"] and e["status"] == 200 for e in journal)


def test_each_prompt_line_is_a_task_and_queue_empties(client: Client) -> None:
    queue = _enqueue(client, "first clip\n# a comment\nsecond clip", steps=1)
    assert queue.count("data-task-id") == 2
    client.predict(api_name="/activate_status")
    client.submit(api_name="/process_tasks").result(timeout=60)
    files = _gallery_files(client)
    assert len(files) == 2 and "first_clip" in files[0] and "second_clip" in files[1]
    assert "Queue is empty" in client.predict(api_name="/refresh_gallery")[3]


def test_abort_stops_the_running_generation(client: Client) -> None:
    _enqueue(client, "very long render", frames=8, steps=100)
    client.predict(api_name="/activate_status")
    job = client.submit(api_name="/process_tasks")
    _wait_for(lambda: len(job.outputs()) >= 3)  # started and denoising
    client.predict(api_name="/abort_generation")
    job.result(timeout=30)
    assert len(job.outputs()) < 100
    assert _gallery_files(client) == []
    assert "Queue is empty" in client.predict(api_name="/refresh_gallery")[3]


def test_clear_queue_drops_pending_tasks(client: Client) -> None:
    queue = _enqueue(client, "one\ntwo\nthree", steps=1)
    assert queue.count("data-task-id") == 3
    cleared = client.predict(api_name="/clear_queue_action")
    assert "Queue is empty" in str(cleared)
    client.predict(api_name="/activate_status")
    client.submit(api_name="/process_tasks").result(timeout=30)
    assert _gallery_files(client) == []


def test_sessions_are_isolated(base: str, namespace: str, client: Client) -> None:
    _enqueue(client, "mine only", steps=1)
    client.predict(api_name="/activate_status")
    client.submit(api_name="/process_tasks").result(timeout=30)
    other = Client(base + "/", headers={"X-Harness-Namespace": namespace}, verbose=False)
    try:
        assert len(_gallery_files(client)) == 1 and _gallery_files(other) == []
    finally:
        other.close()


def test_errors_surface_as_app_errors(client: Client) -> None:
    with pytest.raises(AppError, match="restarted"):
        client.predict("off", "", "no inputs saved", "", api_name="/validate_wizard_prompt")
        client.predict(0, "t2v_1.3B", api_name="/process_prompt_and_add_tasks")
    with pytest.raises(AppError, match="not in the list of choices"):
        _enqueue(client, "bad size", resolution="huge")
    _enqueue(client, "this will FAIL_GEN now", steps=2)
    client.predict(api_name="/activate_status")
    with pytest.raises(AppError, match="CUDA out of memory"):
        client.submit(api_name="/process_tasks").result(timeout=30)
    assert _gallery_files(client) == []


def test_reset_empties_the_namespace_sessions(base: str, namespace: str, client: Client) -> None:
    assert _enqueue(client, "a\nb", steps=1).count("data-task-id") == 2
    resp = httpx.post(f"{base}/__harness/reset", headers={"X-Harness-Namespace": namespace})
    assert resp.status_code == 200
    assert "Queue is empty" in client.predict(api_name="/refresh_gallery")[3]


def test_root_is_the_gradio_page_and_api_health_is_absent(base: str) -> None:
    root = httpx.get(base + "/")
    assert root.status_code == 200 and "text/html" in root.headers["content-type"]
    assert httpx.get(base + "/config").json()["title"] == "WanGP"
    assert httpx.get(base + "/api/health").status_code == 404


def test_health_route_switch(mock_server: Callable[..., str]) -> None:
    url = mock_server("wan2gp", "--health-route", timeout=90)
    assert httpx.get(url + "/api/health").json() == {"status": "ok"}
    assert httpx.get(url + "/").status_code == 200


def test_namespace_settings_change_the_fail_token(
    base: str, namespace: str, client: Client
) -> None:
    headers = {"X-Harness-Namespace": namespace}
    resp = httpx.put(
        f"{base}/__harness/wan2gp/settings", headers=headers, json={"failToken": "BOOM"}
    )
    assert resp.json()["failToken"] == "BOOM"
    assert (
        httpx.put(
            f"{base}/__harness/wan2gp/settings", headers=headers, json={"stepSeconds": "slow"}
        ).status_code
        == 400
    )
    _enqueue(client, "BOOM goes the render", steps=1)
    client.predict(api_name="/activate_status")
    with pytest.raises(AppError, match="CUDA out of memory"):
        client.submit(api_name="/process_tasks").result(timeout=30)
    other = httpx.get(
        f"{base}/__harness/wan2gp/settings", headers={"X-Harness-Namespace": namespace + "-x"}
    ).json()
    assert other["failToken"] == "FAIL_GEN"
