"""TCP faults through Toxiproxy: each toxic type a small fault on one proxy, per direction."""

from __future__ import annotations

import contextlib
import itertools
from typing import Any, Literal

from harness._toxiproxy import ToxiproxyClient, ToxiproxyError
from harness.faults._base import Fault, FaultError, require

Direction = Literal["downstream", "upstream", "both"]
_ids = itertools.count(1)

# type -> {attribute: minimum}; Toxiproxy 2.x's toxics and their attributes.
TOXICS: dict[str, dict[str, float]] = {
    "latency": {"latency": 0, "jitter": 0},
    "bandwidth": {"rate": 0},
    "slow_close": {"delay": 0},
    "timeout": {"timeout": 0},
    "reset_peer": {"timeout": 0},
    "slicer": {"average_size": 1, "size_variation": 0, "delay": 0},
    "limit_data": {"bytes": 0},
}


class Toxic(Fault):
    """One Toxiproxy toxic on one proxy, in one or both directions."""

    layer = "tcp"

    def __init__(
        self,
        client: ToxiproxyClient,
        proxy: str,
        type: str,
        attributes: dict[str, Any],
        direction: Direction = "downstream",
        toxicity: float = 1.0,
    ) -> None:
        super().__init__()
        require(type in TOXICS, f"unknown toxic type {type!r}; known: {', '.join(TOXICS)}")
        require(direction in ("downstream", "upstream", "both"), f"unknown direction {direction!r}")
        require(0.0 <= toxicity <= 1.0, f"toxicity must be within 0..1, got {toxicity}")
        for attribute, value in attributes.items():
            minimum = TOXICS[type].get(attribute)
            require(minimum is not None, f"{type} has no attribute {attribute!r}")
            require(
                value >= (minimum or 0), f"{type} {attribute} must be >= {minimum}, got {value}"
            )
        self.client, self.proxy, self.type = client, proxy, type
        # Toxiproxy's attributes are Go int64s: a float is a 400 there.
        self.attributes = {key: round(value) for key, value in attributes.items()}
        self.direction, self.toxicity = direction, toxicity
        self.names: list[str] = []
        self._id = next(_ids)

    @property
    def streams(self) -> list[str]:
        return ["downstream", "upstream"] if self.direction == "both" else [self.direction]

    def _apply(self) -> None:
        try:
            for stream in self.streams:
                name = f"harness-{self.type}-{stream}-{self._id}"
                self.client.add_toxic(
                    self.proxy,
                    self.type,
                    self.attributes,
                    stream=stream,
                    toxicity=self.toxicity,
                    name=name,
                )
                self.names.append(name)
        except ToxiproxyError as error:
            self._clear()  # never half-applied
            raise FaultError(f"{self.type} on {self.proxy}: {error}") from None

    def _clear(self) -> None:
        for name in self.names:
            with contextlib.suppress(ToxiproxyError):  # already gone (a reset, a removed proxy)
                self.client.remove_toxic(self.proxy, name)
        self.names.clear()

    def describe(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "fault": self.type,
            "proxy": self.proxy,
            "direction": self.direction,
            "toxicity": self.toxicity,
            **self.attributes,
        }


class Down(Fault):
    """The proxy refuses new connections and drops open ones (`enabled: false`)."""

    layer = "tcp"

    def __init__(self, client: ToxiproxyClient, proxy: str) -> None:
        super().__init__()
        self.client, self.proxy = client, proxy

    def _apply(self) -> None:
        try:
            self.client.update(self.proxy, enabled=False)
        except ToxiproxyError as error:
            raise FaultError(f"down on {self.proxy}: {error}") from None

    def _clear(self) -> None:
        self.client.update(self.proxy, enabled=True)

    def describe(self) -> dict[str, Any]:
        return {"layer": self.layer, "fault": "down", "proxy": self.proxy}


def leftovers(client: ToxiproxyClient, proxies: list[str]) -> list[str]:
    """Toxics or disabled states still present on these proxies."""
    found = []
    for name, proxy in client.proxies().items():
        if name in proxies:
            found += [f"{name}: toxic {toxic.name}" for toxic in proxy.toxics]
            if not proxy.enabled:
                found.append(f"{name}: disabled")
    return found


def clear_proxy(client: ToxiproxyClient, proxy: str) -> int:
    """Remove every toxic from a proxy and enable it; returns how many things were reverted."""
    current = client.get(proxy)
    for toxic in current.toxics:
        client.remove_toxic(proxy, toxic.name)
    if not current.enabled:
        client.update(proxy, enabled=True)
    return len(current.toxics) + (0 if current.enabled else 1)
