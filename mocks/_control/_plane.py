"""ControlPlane: per-namespace journal, flags and seeded RNG of one mock."""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._journal import Journal

ResetHook = Callable[[str | None], Any]


@dataclass
class NamespaceState:
    """Harness-side state of one namespace."""

    journal: Journal
    flags: dict[str, Any] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)


class ControlPlane:
    """Harness control state shared by the middleware, the /__harness routes and the mock."""

    def __init__(
        self,
        service: str,
        on_reset: ResetHook | None = None,
        seed: int | None = None,
        journal_cap: int = 500,
        log: bool | None = None,
    ) -> None:
        self.service = service
        self.on_reset = on_reset
        self.journal_cap = journal_cap
        self.seed = int(os.environ.get("MOCK_SEED", "0")) if seed is None else seed
        self.log_enabled = os.environ.get("MOCK_LOG", "1") != "0" if log is None else log
        self._spaces: dict[str, NamespaceState] = {}

    def set_seed(self, seed: int) -> None:
        """Change the seed; every namespace RNG restarts from it."""
        self.seed = seed
        for ns, st in self._spaces.items():
            st.rng.seed(self._ns_seed(ns))

    def _ns_seed(self, ns: str) -> int:
        digest = hashlib.sha256(f"{self.seed}:{ns}".encode()).digest()
        return int.from_bytes(digest[:8], "big")

    def state(self, ns: str) -> NamespaceState:
        """State of a namespace, created on first use."""
        st = self._spaces.get(ns)
        if st is None:
            st = NamespaceState(journal=Journal(self.journal_cap))
            st.rng.seed(self._ns_seed(ns))
            self._spaces[ns] = st
        return st

    def rng(self, ns: str) -> random.Random:
        """Seeded RNG of a namespace (deterministic for a given seed and namespace)."""
        return self.state(ns).rng

    def flags(self, ns: str) -> dict[str, Any]:
        """Mutable per-namespace switches set through POST /__harness/flags."""
        return self.state(ns).flags

    def namespaces(self) -> list[str]:
        """Namespaces seen so far."""
        return list(self._spaces)

    async def reset(self, ns: str | None) -> None:
        """Clear journal, flags and RNG of `ns` (all when None), then the mock's state."""
        targets = list(self._spaces) if ns is None else [ns]
        for name in targets:
            self._spaces.pop(name, None)
        if self.on_reset is not None:
            result = self.on_reset(ns)
            if hasattr(result, "__await__"):
                await result

    def log(self, **fields: Any) -> None:
        """Write one JSON log line to stdout."""
        if not self.log_enabled:
            return
        line = json.dumps({"ts": round(time.time(), 6), "service": self.service, **fields})
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
