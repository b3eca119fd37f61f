"""Every Redis key the studio uses, under one configurable prefix."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    """Key names under `prefix` (e.g. "studio" -> "studio:episode:<id>")."""

    prefix: str

    def project(self, project_id: str) -> str:
        return f"{self.prefix}:project:{project_id}"

    def projects(self) -> str:
        return f"{self.prefix}:projects"

    def episode_counter(self, project_id: str) -> str:
        return f"{self.prefix}:project:{project_id}:episode-counter"

    def project_episodes(self, project_id: str) -> str:
        return f"{self.prefix}:project:{project_id}:episodes"

    def episode(self, episode_id: str) -> str:
        return f"{self.prefix}:episode:{episode_id}"

    def events(self, episode_id: str) -> str:
        return f"{self.prefix}:episode:{episode_id}:events"

    def event_uids(self, episode_id: str) -> str:
        return f"{self.prefix}:episode:{episode_id}:event-uids"

    def idempotency(self, project_id: str, key: str) -> str:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return f"{self.prefix}:idem:{project_id}:{digest}"

    def pending(self) -> str:
        return f"{self.prefix}:queue:pending"

    def processing(self) -> str:
        return f"{self.prefix}:queue:processing"

    def lease(self, episode_id: str) -> str:
        return f"{self.prefix}:lease:{episode_id}"

    def state_counts(self) -> str:
        return f"{self.prefix}:stats:episodes-by-state"
