"""Bad input: one clear error, a non-zero exit where a command ran, and nothing left running."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from harness import _images as images
from harness import _reaper as reaper
from harness._errors import ComposeError, HealthTimeout, ImageMissing, PortInUse
from harness._stack import Stack, health, new_project_name
from harness._stack.inspection import Inspector
from harness._topology import FRONT_SERVICES


@pytest.fixture
def fresh_project() -> str:
    project = new_project_name()
    yield project
    reaper.remove_run(project)


def test_health_deadline_names_the_service_and_shows_its_logs(
    fresh_project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Healthy in time or not was a race: the containers' own checks could all pass in the first
    # poll. Here every check says "not yet", so the deadline decides and the message is real.
    monkeypatch.setattr(health, "own_check", lambda inspector, name, every=0.5: None)
    monkeypatch.setattr(
        Inspector,
        "health_states",
        lambda self: dict.fromkeys((*FRONT_SERVICES, "redis"), "starting"),
    )
    with pytest.raises(HealthTimeout) as caught:
        Stack(fresh_project).up(["redis"], timeout=0.05)
    message = str(caught.value)
    first = message.splitlines()[0]
    late = re.findall(r"(redis|toxiproxy|httpfaults) \(starting\)", first)
    assert sorted(late) == ["httpfaults", "redis", "toxiproxy"], message
    assert "--health-timeout" in message
    for service in late:
        assert f"--- last log lines of {service} ---" in message
    assert re.search(r"--- container events ---\n(.*\n)*\S+ redis start\b", message), message
    assert reaper.leftovers(fresh_project) == {}


def test_a_container_removed_while_starting_fails_at_once_with_the_events(
    tmp_path: Path, fresh_project: str
) -> None:
    never = tmp_path / "compose.yaml"  # a service that never turns healthy, labeled with the run
    never.write_text(
        "services:\n"
        "  never:\n"
        "    image: ${HARNESS_REDIS_IMAGE:-redis:7.0.15-bookworm}\n"
        "    labels: {org.mediastack-harness.run: $HARNESS_RUN_ID}\n"
        "    healthcheck: {test: [CMD, 'false'], interval: 1s, retries: 1000}\n"
    )
    stack = Stack(fresh_project, compose_files=[never])
    stack.compose.up(["never"])

    def remove_once_it_starts(service: str, state: str) -> None:
        if state == "starting":  # another process's reaper, at the worst moment
            reaper.remove_run(fresh_project)

    try:
        with pytest.raises(HealthTimeout) as caught:
            stack.wait_healthy(["never"], timeout=120, progress=remove_once_it_starts)
    finally:
        stack.down()  # and its unlabeled default network
    message = str(caught.value)
    assert message.startswith("service never's container was removed before it became healthy")
    assert re.search(r"\S+ never kill\n(.*\n)*\S+ never destroy", message), message


def test_missing_image_names_the_build_command(
    fresh_project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_REDIS_IMAGE", "mediastack-harness/absent:0")
    with pytest.raises(ImageMissing, match=r"run `harness images build`$"):
        Stack(fresh_project).up(["redis"])
    assert reaper.leftovers(fresh_project) == {}


def test_image_built_from_other_files_is_refused(
    fresh_project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as after `pip install -U`: the recipe's inputs no longer hash to what the image was built from
    monkeypatch.setattr(images.ImageBuilder, "content_hash", lambda self, key: "0" * 16)
    stale = r"other harness files than these: .*mediastack-harness/mocks:local"
    with pytest.raises(ImageMissing, match=stale):
        Stack(fresh_project).up(["comfyui"])  # the mocks image is always built here
    assert reaper.leftovers(fresh_project) == {}


def test_taken_host_port_is_one_clear_error(
    fresh_project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        monkeypatch.setenv("HARNESS_REDIS_PORT", str(squatter.getsockname()[1]))
        with pytest.raises(PortInUse, match="host port is taken"):
            Stack(fresh_project).up(["redis"])
    assert reaper.leftovers(fresh_project) == {}


def test_invalid_compose_file_gives_composes_own_message(
    tmp_path: Path, fresh_project: str
) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  redis:\n    image: redis\n    ports: 12\n")
    with pytest.raises(ComposeError) as caught:
        Stack(fresh_project, compose_files=[broken]).compose.config()
    assert "ports" in str(caught.value)
    assert "\n" not in str(caught.value)
