"""In-memory Cablecast state, one isolated copy per harness namespace."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field, replace
from typing import Any

from ._vod import VodRun
from .data import Dataset

Record = dict[str, Any]
RecordId = int | str  # ThumbnailDto ids are strings, every other id an integer


@dataclass(frozen=True)
class Settings:
    """Per-namespace behaviour knobs (reset restores the process defaults)."""

    step_seconds: float = 1.0
    processing_steps: int = 4
    fail_vods: bool = False
    error_token: str = "FAIL_VOD"

    def updated(self, changes: dict[str, Any]) -> Settings:
        """Validated copy with `changes` (camelCase or snake_case keys) applied."""
        aliases = {
            "stepSeconds": "step_seconds",
            "processingSteps": "processing_steps",
            "failVods": "fail_vods",
            "errorToken": "error_token",
        }
        clean: dict[str, Any] = {}
        for key, value in changes.items():
            name = aliases.get(key, key)
            valid = {
                "step_seconds": isinstance(value, int | float) and value >= 0,
                "processing_steps": isinstance(value, int) and 1 <= value <= 100,
                "fail_vods": isinstance(value, bool),
                "error_token": isinstance(value, str),
            }
            if isinstance(value, bool) and name in ("step_seconds", "processing_steps"):
                valid[name] = False
            if not valid.get(name, False):
                raise ValueError(f"invalid setting {key!r}={value!r}")
            clean[name] = float(value) if name == "step_seconds" else value
        return replace(self, **clean)

    def public(self) -> dict[str, Any]:
        """camelCase view for the settings route."""
        return {
            "stepSeconds": self.step_seconds,
            "processingSteps": self.processing_steps,
            "failVods": self.fail_vods,
            "errorToken": self.error_token,
        }


@dataclass
class Namespace:
    """One namespace's collections (key -> id -> record), id counters, VOD runs, settings."""

    settings: Settings
    tables: dict[str, dict[RecordId, Record]]
    vod_runs: dict[int, VodRun] = field(default_factory=dict)

    def table(self, key: str) -> dict[RecordId, Record]:
        """Collection `key` (e.g. "shows") as an id-ordered dict."""
        return self.tables.setdefault(key, {})

    def next_id(self, key: str) -> int:
        """A fresh id for collection `key`."""
        return max((i for i in self.table(key) if isinstance(i, int)), default=0) + 1

    def start_vod(self, vod_id: int, fail: bool) -> VodRun:
        """Plan the transcode of a new VOD with the namespace's current settings."""
        run = VodRun(
            time.time(),
            self.settings.step_seconds,
            self.settings.processing_steps,
            fail or self.settings.fail_vods,
        )
        self.vod_runs[vod_id] = run
        return run


class Store:
    """Namespaces created lazily from one seeded dataset."""

    def __init__(self, dataset: Dataset, defaults: Settings) -> None:
        self._dataset = dataset
        self.defaults = defaults
        self._spaces: dict[str, Namespace] = {}

    def get(self, ns: str) -> Namespace:
        """The namespace's state, seeded on first use."""
        space = self._spaces.get(ns)
        if space is None:
            tables = {
                key: {rec["id"]: rec for rec in copy.deepcopy(rows)}
                for key, rows in self._dataset.items()
            }
            space = Namespace(self.defaults, tables)
            self._spaces[ns] = space
        return space

    def reset(self, ns: str | None) -> None:
        """Forget one namespace (None: all); it is re-seeded on next use."""
        if ns is None:
            self._spaces.clear()
        else:
            self._spaces.pop(ns, None)
