"""Toxic types: one small class each, registering itself behind one interface (`_toxic`).

Semantics follow Shopify/toxiproxy's `toxics/*.go` (v2.12): see each class. Importing this
module fills the registry, TOXIC_TYPES, with every type.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from ._toxic import TOXIC_TYPES, Chunk, Stub, Toxic, register

__all__ = [
    "TOXIC_TYPES",
    "BandwidthToxic",
    "LatencyToxic",
    "LimitDataToxic",
    "ResetPeerToxic",
    "SlicerToxic",
    "SlowCloseToxic",
    "TimeoutToxic",
    "Toxic",
]

MILLISECOND = 1_000_000  # Go's time.Millisecond, in nanoseconds
MICROSECOND = 1_000


def wrap_int64(value: int) -> int:
    """Go's int64 arithmetic wraps around."""
    return (value + 2**63) % 2**64 - 2**63


def go_duration(count: int, unit: int) -> float:
    """`time.Duration(count) * unit` in seconds, wrapping like Go (a negative one is 0 s)."""
    return max(wrap_int64(count * unit), 0) / 1e9


register(Toxic)


@register
class LatencyToxic(Toxic):
    """Delays each chunk by `latency` ms +/- `jitter` ms, measured from when it was read."""

    type_name = "latency"
    go_name = "LatencyToxic"
    fields = (("latency", "int64"), ("jitter", "int64"))

    async def pipe(self, chunk: Chunk, stub: Stub) -> None:
        """Sleep until read time + delay (so chunks are pipelined), then forward."""
        delay = self.values["latency"]
        jitter = self.values["jitter"]
        if jitter > 0:
            delay += stub.rng.randrange(jitter * 2) - jitter
        sleep = go_duration(wrap_int64(delay), MILLISECOND) - (time.monotonic() - chunk.ts)
        await stub.sleep(sleep)  # interrupted: forward at once, never drop data
        chunk.ts += sleep
        await stub.forward(chunk)


@register
class BandwidthToxic(Toxic):
    """Limits throughput to `rate` KB/s (1 KB = 1000 bytes); rate 0 stalls the stream."""

    type_name = "bandwidth"
    go_name = "BandwidthToxic"
    fields = (("rate", "int64"),)

    def new_state(self) -> Any:
        """Carry-over of sleep debt between chunks (seconds)."""
        return [0.0]

    def start(self, stub: Stub) -> None:
        """Upstream resets the sleep debt whenever the toxic (re)starts."""
        stub.state[0] = 0.0

    async def pipe(self, chunk: Chunk, stub: Stub) -> None:
        """Send in slices of at most 100 ms worth of data, sleeping to keep the rate."""
        rate = self.values["rate"]
        data = chunk.data
        if rate <= 0:
            while not await stub.sleep(3600.0):
                pass
            await stub.forward(chunk)
            return
        debt = stub.state
        debt[0] += len(data) / (rate * 1000)
        step = rate * 100
        while len(data) > step:
            if await stub.sleep(0.1):
                await stub.forward(Chunk(data, chunk.ts))
                return
            await stub.forward(Chunk(data[:step], chunk.ts))
            data = data[step:]
            debt[0] -= 0.1
        started = time.monotonic()
        interrupted = await stub.sleep(debt[0])
        if not interrupted:
            debt[0] -= time.monotonic() - started
        await stub.forward(Chunk(data, chunk.ts))


@register
class SlowCloseToxic(Toxic):
    """Delays closing the connection by `delay` ms after the stream ends."""

    type_name = "slow_close"
    go_name = "SlowCloseToxic"
    fields = (("delay", "int64"),)

    async def on_eof(self, stub: Stub) -> None:
        """Wait, then close."""
        await stub.sleep(go_duration(self.values["delay"], MILLISECOND))
        await stub.close()


@register
class TimeoutToxic(Toxic):
    """Drops all data; closes the connection after `timeout` ms without data (0 = never).

    As upstream: the timer restarts with each chunk, and removing the toxic closes the
    connections it was attached to (TimeoutToxic.Cleanup).
    """

    type_name = "timeout"
    go_name = "TimeoutToxic"
    fields = (("timeout", "int64"),)

    def new_state(self) -> Any:
        """Holds the pending close timer."""
        return [None]

    def start(self, stub: Stub) -> None:
        """Arm the close timer."""
        self._arm(stub)

    def stop(self, stub: Stub) -> None:
        """Disarm the close timer."""
        handle = stub.state[0]
        if handle is not None:
            handle.cancel()
            stub.state[0] = None

    def cleanup(self, stub: Stub) -> None:
        """Removing a timeout toxic closes the connection."""
        stub.close_soon()

    def _arm(self, stub: Stub) -> None:
        self.stop(stub)
        timeout = go_duration(self.values["timeout"], MILLISECOND)
        if timeout > 0:
            loop = asyncio.get_running_loop()
            stub.state[0] = loop.call_later(timeout, stub.close_soon)

    async def pipe(self, chunk: Chunk, stub: Stub) -> None:
        """Drop the data on the ground; restart the timer."""
        if stub.state[0] is not None:
            self._arm(stub)

    async def on_eof(self, stub: Stub) -> None:
        """Close at once."""
        self.stop(stub)
        await stub.close()


@register
class ResetPeerToxic(Toxic):
    """On the first data (or EOF), waits `timeout` ms and closes; with SO_LINGER 0 -> RST.

    As upstream: that data is dropped, and SO_LINGER 0 is set only on connections that
    opened while the toxic existed (others get a plain close).
    """

    type_name = "reset_peer"
    go_name = "ResetToxic"
    fields = (("timeout", "int64"),)
    resets_peer = True

    async def pipe(self, chunk: Chunk, stub: Stub) -> None:
        """Swallow the chunk, wait, close."""
        await asyncio.sleep(go_duration(self.values["timeout"], MILLISECOND))
        await stub.close()

    async def on_eof(self, stub: Stub) -> None:
        """Same as data."""
        await asyncio.sleep(go_duration(self.values["timeout"], MILLISECOND))
        await stub.close()


@register
class SlicerToxic(Toxic):
    """Splits chunks into ~`average_size` +/- `size_variation` byte pieces,
    waiting `delay` microseconds after each piece."""

    type_name = "slicer"
    go_name = "SlicerToxic"
    fields = (("average_size", "int"), ("size_variation", "int"), ("delay", "int"))

    def _bounds(self, start: int, end: int, rng: random.Random, out: list[int]) -> None:
        average = max(self.values["average_size"], 1)  # upstream recurses forever on 0
        variation = self.values["size_variation"]
        if (end - start) - average <= variation:
            out.append(start)
            out.append(end)
            return
        mid = start + (end - start) // 2
        if variation > 0:
            mid += rng.randrange(variation * 2) - variation
        mid = min(max(mid, start + 1), end - 1)
        self._bounds(start, mid, rng, out)
        self._bounds(mid, end, rng, out)

    async def pipe(self, chunk: Chunk, stub: Stub) -> None:
        """Forward the pieces one by one."""
        data = chunk.data
        bounds: list[int] = []
        self._bounds(0, len(data), stub.rng, bounds)
        delay = go_duration(self.values["delay"], MICROSECOND)
        for i in range(0, len(bounds), 2):
            await stub.forward(Chunk(data[bounds[i] : bounds[i + 1]], chunk.ts))
            if delay > 0 and await stub.sleep(delay):
                rest = data[bounds[i + 1] :]
                if rest:
                    await stub.forward(Chunk(rest, chunk.ts))
                return


@register
class LimitDataToxic(Toxic):
    """Closes the connection once `bytes` bytes have passed."""

    type_name = "limit_data"
    go_name = "LimitDataToxic"
    fields = (("bytes", "int64"),)

    def new_state(self) -> Any:
        """Bytes transmitted on this link so far."""
        return [0]

    async def pipe(self, chunk: Chunk, stub: Stub) -> None:
        """Forward up to the limit, then close."""
        limit = self.values["bytes"]
        sent = stub.state
        remaining = max(limit - sent[0], 0)
        if remaining < len(chunk.data):
            chunk = Chunk(chunk.data[:remaining], chunk.ts)
        if chunk.data:
            sent[0] += len(chunk.data)
            await stub.forward(chunk)
        if limit - sent[0] <= 0:
            await stub.close()
