"""A pipeline step waits out an unreachable backend, and fails at once on anything else."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from studio._errors import BackendError, PipelineError
from studio._pipeline import Pipeline
from studio._settings import StudioSettings

pytestmark = pytest.mark.anyio


class Recorder:
    """Stands in for the event log: remembers what was published."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, _episode: str, kind: str, data: dict[str, Any], **_: Any) -> str:
        self.published.append((kind, data))
        return f"{len(self.published)}-0"


def _pipeline(outage_timeout: float) -> tuple[Pipeline, Recorder]:
    events = Recorder()
    settings = StudioSettings(outage_timeout=outage_timeout, outage_retry_interval=0.01)
    return Pipeline(SimpleNamespace(settings=settings, events=events)), events  # type: ignore[arg-type]


def _failing(errors: list[Exception]) -> Any:
    calls: list[int] = []

    async def step(_episode: dict[str, Any]) -> dict[str, Any]:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return {"done": len(calls)}

    return step


async def test_a_step_waits_while_its_backend_is_unreachable() -> None:
    pipeline, events = _pipeline(outage_timeout=5)
    down = [BackendError("redis", "ping failed", transient=True) for _ in range(2)]
    outputs = await pipeline.attempt({"id": "e1"}, "casting", _failing(down))
    assert outputs == {"done": 3}
    assert [kind for kind, _ in events.published] == ["step_retrying", "step_retrying"]
    assert events.published[0][1]["backend"] == "redis"


async def test_a_permanent_error_fails_the_step_at_once() -> None:
    pipeline, events = _pipeline(outage_timeout=5)
    rejected = [BackendError("comfyui", "400 invalid prompt"), PipelineError("never reached")]
    with pytest.raises(BackendError, match="invalid prompt"):
        await pipeline.attempt({"id": "e1"}, "rendering_keyframes", _failing(rejected))
    assert events.published == []


async def test_an_outage_longer_than_the_deadline_fails_the_step() -> None:
    pipeline, _events = _pipeline(outage_timeout=0.05)
    forever = [BackendError("chromadb", "refused", transient=True) for _ in range(1000)]
    with pytest.raises(BackendError, match="refused"):
        await pipeline.attempt({"id": "e1"}, "casting", _failing(forever))
    assert len(forever) < 1000
