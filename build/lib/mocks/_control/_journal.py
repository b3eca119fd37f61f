"""Capped per-namespace journal of the requests a mock received."""

from __future__ import annotations

from collections import deque
from typing import Any

BODY_CAP = 65536


class Journal:
    """Oldest-first ring buffer of request entries."""

    def __init__(self, cap: int = 500) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=cap)

    def add(self, entry: dict[str, Any]) -> None:
        """Append one entry, dropping the oldest when full."""
        self._entries.append(entry)

    def query(
        self,
        path: str | None = None,
        method: str | None = None,
        path_regex: Any = None,
    ) -> list[dict[str, Any]]:
        """Entries matching an exact path, a compiled path regex and/or a method."""
        out = []
        for e in self._entries:
            if path is not None and e["path"] != path:
                continue
            if method is not None and e["method"].upper() != method.upper():
                continue
            if path_regex is not None and not path_regex.search(e["path"]):
                continue
            out.append(e)
        return out

    def clear(self) -> int:
        """Remove all entries; return how many there were."""
        n = len(self._entries)
        self._entries.clear()
        return n

    def __len__(self) -> int:
        return len(self._entries)


def body_text(body: bytes) -> str:
    """Request body as text for the journal (UTF-8 with replacement, capped)."""
    return body[:BODY_CAP].decode("utf-8", errors="replace")
