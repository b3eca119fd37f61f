"""Redis access for the stores: the current client and key prefix, every call retried."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from ._keys import Keys
from ._metrics import Metrics
from ._retry import RetryPolicy, call

T = TypeVar("T")


class RedisIO:
    """Runs Redis operations on whatever client/prefix the configuration currently names."""

    def __init__(
        self,
        client: Callable[[], Redis],
        prefix: Callable[[], str],
        policy: Callable[[], RetryPolicy],
        metrics: Metrics | None = None,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._policy = policy
        self.metrics = metrics

    @property
    def keys(self) -> Keys:
        """Key names under the current prefix."""
        return Keys(self._prefix())

    @property
    def call_timeout(self) -> float:
        """The per-attempt timeout of the current retry policy."""
        return self._policy().timeout

    async def run(
        self, operation: str, fn: Callable[[Any], Awaitable[T]], timeout: float | None = None
    ) -> T:
        """`fn(client)` with retries and a per-attempt timeout."""

        async def attempt(_n: int) -> T:
            client = self._client()
            try:
                return await fn(client)
            except RedisConnectionError:
                # the server went away: its other idle connections are broken too (a reset one
                # looks healthy until used), so the next attempt must not be handed one of them
                await client.connection_pool.disconnect(inuse_connections=False)
                raise

        return await call("redis", operation, attempt, self._policy(), self.metrics, timeout)

    async def script(self, operation: str, source: str, keys: list[str], args: list[Any]) -> Any:
        """Run a Lua script (EVALSHA with EVAL fallback) with retries."""

        async def run_script(client: Redis) -> Any:
            return await client.register_script(source)(keys=keys, args=args)

        return await self.run(operation, run_script)
