"""Retry policy: transient failures are retried (and counted), others fail at once."""

from __future__ import annotations

import asyncio

import httpx
import openai
import pytest
import redis.exceptions
import websockets.exceptions

from studio._errors import BackendError, PipelineError
from studio._metrics import Metrics
from studio._retry import RetryPolicy, call, transient

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(attempts=3, timeout=1.0, backoff=0.0, backoff_max=0.0)


def _status(code: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "http://127.0.0.1/x")
    return httpx.HTTPStatusError(
        "x", request=request, response=httpx.Response(code, request=request)
    )


def test_transient_classification() -> None:
    request = httpx.Request("GET", "http://127.0.0.1/x")
    for exc in (
        ConnectionResetError(),
        TimeoutError(),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        _status(503),
        _status(429),
        redis.exceptions.ConnectionError("down"),
        openai.APIConnectionError(request=request),  # type: ignore[arg-type]
        ValueError("Could not connect to a Chroma server. Are you sure it is running?"),
        websockets.exceptions.InvalidMessage("did not receive a valid HTTP response"),
    ):
        assert transient(exc), exc
    permanent: list[BaseException] = [_status(400), _status(404), ValueError("bad"), KeyError()]
    for error in [*permanent, PipelineError("no")]:
        assert not transient(error), error


async def test_transient_failures_are_retried_and_counted() -> None:
    metrics = Metrics()
    attempts: list[int] = []

    async def flaky(n: int) -> str:
        attempts.append(n)
        if n < 3:
            raise httpx.ConnectError("reset")
        return "ok"

    assert await call("comfyui", "render", flaky, FAST, metrics) == "ok"
    assert attempts == [1, 2, 3]
    text = metrics.render().decode()
    assert 'studio_backend_retries_total{backend="comfyui",operation="render"} 2.0' in text
    assert (
        'studio_backend_calls_total{backend="comfyui",operation="render",outcome="ok"} 1.0' in text
    )


async def test_attempts_are_bounded_and_reported_as_backend_error() -> None:
    attempts: list[int] = []

    async def down(n: int) -> None:
        attempts.append(n)
        raise httpx.ConnectError("connection refused")

    with pytest.raises(BackendError, match=r"cablecast: create_show failed: ConnectError") as info:
        await call("cablecast", "create_show", down, FAST)
    assert attempts == [1, 2, 3]
    assert info.value.transient  # unreachable: the pipeline waits for it


async def test_a_client_error_is_reported_as_not_transient() -> None:
    async def rejected(_n: int) -> None:
        raise _status(422)

    with pytest.raises(BackendError) as info:
        await call("cablecast", "create_vod", rejected, FAST)
    assert not info.value.transient


async def test_each_attempt_has_a_timeout() -> None:
    attempts: list[int] = []

    async def hangs(n: int) -> None:
        attempts.append(n)
        await asyncio.sleep(10)

    with pytest.raises(BackendError, match="TimeoutError"):
        await call("wan2gp", "render_clip", hangs, FAST, timeout=0.05)
    assert attempts == [1, 2, 3]


async def test_permanent_errors_are_not_retried() -> None:
    attempts: list[int] = []

    async def rejected(n: int) -> None:
        attempts.append(n)
        raise PipelineError("ComfyUI rejected the prompt")

    with pytest.raises(PipelineError):
        await call("comfyui", "render", rejected, FAST)
    assert attempts == [1]
