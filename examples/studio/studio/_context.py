"""Everything one app instance shares: settings, clients, stores, metrics."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ._backends import Backends
from ._cablecast import Cablecast
from ._comfyui import ComfyUI
from ._events import EventLog
from ._llm import Llm
from ._metrics import Metrics
from ._queue import JobQueue
from ._redisio import RedisIO
from ._settings import StudioSettings
from ._store import Store
from ._vectors import CharacterIndex
from ._wan2gp import Wan2GP


class Context:
    """Wiring of the studio's parts (one per app)."""

    def __init__(self, settings: StudioSettings) -> None:
        self.metrics = Metrics()
        self.backends = Backends(settings, self.metrics)
        self.io = RedisIO(
            self.backends.redis,
            lambda: self.backends.settings.redis_prefix,
            self.backends.policy,
            self.metrics,
        )
        self.store = Store(self.io)
        self.events = EventLog(self.io)
        self.queue = JobQueue(self.io)
        self.llm = Llm(self.backends)
        self.characters = CharacterIndex(self.backends)
        self.comfyui = ComfyUI(self.backends)
        self.wan2gp = Wan2GP(self.backends)
        self.cablecast = Cablecast(self.backends)
        self._media_tmp = tempfile.mkdtemp(prefix="studio-media-")

    @property
    def settings(self) -> StudioSettings:
        """The current settings."""
        return self.backends.settings

    def media_dir(self, episode_id: str) -> Path:
        """Where an episode's keyframes and clip are written."""
        root = Path(self.settings.media_dir or self._media_tmp)
        path = root / episode_id
        path.mkdir(parents=True, exist_ok=True)
        return path
