"""The studio from its own image (Dockerfile, harness.compose.yaml) as a container under test:
it reaches every backend through proxies of its own, and its client survives a kill of it."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from harness import Faults, wait_for
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

pytestmark = [pytest.mark.faults, pytest.mark.recovery]

NAME = "studio-container"


class _Unavailable(Exception):
    """The studio answered 5xx: a real client tries again."""


def _post_episode(url: str, project: str, key: str, patience: float) -> dict[str, Any]:
    """Create an episode as a real client does: dropped connections and 5xx are retried with
    the same Idempotency-Key until `patience` runs out."""

    def once() -> dict[str, Any]:
        answer = httpx.post(
            f"{url}/projects/{project}/episodes",
            json={"title": "Pilot", "premise": "a pilot races a storm"},
            headers={"Idempotency-Key": key},
            timeout=30,
        )
        if answer.status_code >= 500:
            raise _Unavailable(f"answered {answer.status_code}")
        answer.raise_for_status()
        return dict(answer.json())

    retrying = Retrying(
        stop=stop_after_delay(patience),
        wait=wait_fixed(0.25),
        retry=retry_if_exception_type((httpx.TransportError, _Unavailable)),
        reraise=True,
    )
    return retrying(once)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=30).status_code == 200
    except httpx.TransportError:
        return False


def test_the_container_reaches_every_backend_through_its_own_proxies(
    under_test: Callable[[str], Any],
) -> None:
    studio = under_test(NAME)
    wait_for(lambda: _healthy(studio.url), 60, "the studio container to reach every backend")
    settings = httpx.get(f"{studio.url}/config", timeout=30).json()
    stack = studio.stack  # the container reaches its links on the compose network
    proxies = {p.name: stack.proxy_address(p) for p in stack.toxiproxy.proxies().values()}
    assert settings["redis_url"] == f"redis://{proxies[f'redis--{NAME}']}/0"
    assert settings["comfyui_url"] == f"http://{proxies[f'comfyui--{NAME}']}"
    container = studio.stack.containers()[NAME]
    # built from the Dockerfile here: the image it was created from (another stack's `compose
    # build` may move the tag to an image built since, leaving this one untagged)
    assert container.attrs["Config"]["Image"] == "studio:local"
    assert '"GET /config HTTP/1.1" 200' in studio.logs(20)  # its container's log


@pytest.mark.exclusive_stack
def test_its_client_survives_a_kill_of_the_studio_container(
    under_test: Callable[[str], Any], faults: Faults
) -> None:
    studio = under_test(NAME)
    wait_for(lambda: _healthy(studio.url), 60, "the studio container to reach every backend")
    project = httpx.post(f"{studio.url}/projects", json={"name": "killed"}, timeout=30).json()
    first = _post_episode(studio.url, project["id"], "pilot", patience=0)

    faults.kill(NAME)  # docker kill
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{studio.url}/config", timeout=5)
    with ThreadPoolExecutor(max_workers=1) as client:
        # the client retries its request across the outage; the kill is cleared meanwhile
        replay = client.submit(_post_episode, studio.url, project["id"], "pilot", 120)
        faults.clear()  # started again and healthy
        replayed = replay.result()
    assert replayed["id"] == first["id"]  # the same episode: nothing created twice

    second = _post_episode(studio.url, project["id"], "second", patience=30)
    assert (first["number"], second["number"]) == (1, 2)  # numbering went on across the kill
    listed = httpx.get(f"{studio.url}/projects/{project['id']}/episodes", timeout=30).json()
    assert [episode["id"] for episode in listed["episodes"]] == [first["id"], second["id"]]
