"""Isolated containers are named `<run>-<service>-isolated-<n>` (issue 14), never Docker's
random names; a name another worker took at the same moment moves on to the next n."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from docker.errors import APIError

from harness import _containers as containers


class FakeContainer:
    """The part of testcontainers' DockerContainer that naming touches."""

    def __init__(self, taken: set[str]) -> None:
        self.taken, self.name = taken, ""

    def with_name(self, name: str) -> FakeContainer:
        self.name = name
        return self

    def start(self) -> None:
        if self.name in self.taken:
            raise APIError("Conflict", response=SimpleNamespace(status_code=409))  # type: ignore[arg-type]
        self.taken.add(self.name)


def _docker_listing(names: list[str]) -> Any:
    listed = [SimpleNamespace(name=name) for name in names]
    return SimpleNamespace(containers=SimpleNamespace(list=lambda **_: listed))


@pytest.mark.parametrize(
    ("existing", "raced", "expected"),
    [
        ([], set(), "hx-run-redis-isolated-1"),
        (["hx-run-redis-isolated-2", "hx-run-redis-isolated-x"], set(), "hx-run-redis-isolated-3"),
        ([], {"hx-run-redis-isolated-1"}, "hx-run-redis-isolated-2"),  # another worker won n=1
    ],
)
def test_isolated_container_gets_the_next_free_run_scoped_name(
    monkeypatch: pytest.MonkeyPatch, existing: list[str], raced: set[str], expected: str
) -> None:
    monkeypatch.setattr(containers._docker, "client", lambda: _docker_listing(existing))
    container = FakeContainer(set(existing) | raced)
    containers._start_named(container, "hx-run-redis-isolated-")  # type: ignore[arg-type]
    assert container.name == expected
