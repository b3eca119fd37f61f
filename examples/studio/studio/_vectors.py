"""Characters in Chroma: one collection per project, explicit embeddings only."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from ._backends import Backends
from ._retry import call


def collection_name(prefix: str, project_id: str) -> str:
    """A valid Chroma collection name (3-512 chars of [A-Za-z0-9._-], alnum at both ends)."""
    raw = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{prefix}-{project_id}-characters")
    return raw.strip("._-")[:512]


class CharacterIndex:
    """Add characters and find similar ones."""

    def __init__(self, backends: Backends) -> None:
        self.backends = backends

    async def _collection(self, project_id: str) -> Any:
        client = await self.backends.chroma()
        name = collection_name(self.backends.settings.redis_prefix, project_id)
        return await asyncio.to_thread(
            client.get_or_create_collection,
            name,
            embedding_function=None,
            metadata={"hnsw:space": "cosine", "project_id": project_id},
        )

    async def add(
        self,
        project_id: str,
        character_id: str,
        name: str,
        description: str,
        embedding: list[float],
    ) -> None:
        """Upsert a character (idempotent: same id, same record)."""

        async def upsert(_attempt: int) -> None:
            collection = await self._collection(project_id)
            await asyncio.to_thread(
                collection.upsert,
                ids=[character_id],
                embeddings=[embedding],
                documents=[description],
                metadatas=[{"name": name, "project_id": project_id}],
            )

        await call("chromadb", "upsert", upsert, self.backends.policy(), self.backends.metrics)

    async def similar(
        self, project_id: str, embedding: list[float], limit: int, exclude: set[str] | None = None
    ) -> list[dict[str, Any]]:
        """Up to `limit` nearest characters of the project (closest first)."""
        skip = exclude or set()

        async def query(_attempt: int) -> list[dict[str, Any]]:
            collection = await self._collection(project_id)
            count = await asyncio.to_thread(collection.count)
            if count == 0:
                return []
            result = await asyncio.to_thread(
                collection.query,
                query_embeddings=[embedding],
                n_results=min(count, limit + len(skip)),
                include=["documents", "metadatas", "distances"],
            )
            rows = []
            for i, character_id in enumerate(result["ids"][0]):
                if character_id in skip:
                    continue
                meta = (result["metadatas"] or [[]])[0][i] or {}
                rows.append(
                    {
                        "id": character_id,
                        "name": meta.get("name"),
                        "description": (result["documents"] or [[]])[0][i],
                        "distance": float((result["distances"] or [[]])[0][i]),
                    }
                )
            return rows[:limit]

        return await call("chromadb", "query", query, self.backends.policy(), self.backends.metrics)

    async def heartbeat(self) -> int:
        """Chroma's heartbeat (ns), one attempt (health checks do not retry)."""
        client = await self.backends.chroma()
        return int(await asyncio.to_thread(client.heartbeat))
