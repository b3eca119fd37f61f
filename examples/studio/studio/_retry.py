"""Bounded retries with per-attempt timeouts (tenacity) for every backend call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
import openai
import redis.exceptions
import websockets.exceptions
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ._errors import BackendError, StudioError
from ._metrics import Metrics

T = TypeVar("T")
_UNREACHABLE = ("Could not connect", "Could not fetch config", "Could not get Gradio config")


@dataclass(frozen=True)
class RetryPolicy:
    """At most `attempts` tries, each bounded by `timeout` seconds, exponential backoff."""

    attempts: int = 4
    timeout: float = 10.0
    backoff: float = 0.2
    backoff_max: float = 2.0


class TransientError(Exception):
    """Raised by call sites for a condition worth retrying (e.g. an HTTP 5xx they detected)."""


def transient(exc: BaseException) -> bool:
    """True for failures a retry may cure: resets, refused connections, timeouts, 5xx, 429."""
    if isinstance(exc, TransientError | TimeoutError | ConnectionError):
        return True
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500 or exc.response.status_code == 429
    if isinstance(exc, httpx.TransportError):
        return True
    if isinstance(
        exc,
        openai.APIConnectionError | openai.RateLimitError | openai.InternalServerError,
    ):
        return True
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return True
    if isinstance(
        exc,
        websockets.exceptions.ConnectionClosed
        | websockets.exceptions.InvalidStatus
        | websockets.exceptions.InvalidMessage,  # dropped during the handshake (e.g. by a proxy)
    ):
        return True
    if isinstance(exc, ValueError) and any(m in str(exc) for m in _UNREACHABLE):
        return True  # chromadb / gradio_client report unreachable servers as ValueError
    return isinstance(exc, OSError)


def describe(exc: BaseException) -> str:
    """One-line description of an exception (type and message)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


async def call(
    backend: str,
    operation: str,
    fn: Callable[[int], Awaitable[T]],
    policy: RetryPolicy,
    metrics: Metrics | None = None,
    timeout: float | None = None,
) -> T:
    """Run `fn(attempt_number)` with retries; BackendError once the attempts are spent."""

    def before_sleep(state: RetryCallState) -> None:
        if metrics is not None:
            metrics.retries.labels(backend=backend, operation=operation).inc()

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait_exponential_jitter(
            multiplier=policy.backoff, max=policy.backoff_max, jitter=policy.backoff
        ),
        retry=retry_if_exception(transient),
        before_sleep=before_sleep,
        reraise=True,
    )
    outcome = "error"
    try:
        async for attempt in retrying:
            with attempt:
                async with asyncio.timeout(timeout or policy.timeout):
                    result = await fn(attempt.retry_state.attempt_number)
                outcome = "ok"
                return result
    except StudioError:
        raise
    except Exception as exc:
        message = f"{operation} failed: {describe(exc)}"
        raise BackendError(backend, message, transient=transient(exc)) from exc
    finally:
        if metrics is not None:
            metrics.backend_calls.labels(
                backend=backend, operation=operation, outcome=outcome
            ).inc()
    raise AssertionError("unreachable")  # pragma: no cover
