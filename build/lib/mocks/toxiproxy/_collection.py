"""The set of proxies by name (upstream's proxy_collection.go), including /populate."""

from __future__ import annotations

import random

from ._decode import decode_list, read_json
from ._errors import MISSING_FIELD, PROXY_ALREADY_EXISTS, PROXY_NOT_FOUND, ApiError
from ._proxy import Proxy
from ._structs import POPULATE_ITEM, POPULATE_LIST


class ProxyCollection:
    """Proxies keyed by name; guards against duplicate names."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.proxies: dict[str, Proxy] = {}

    def new_proxy(self, name: str, listen: str, upstream: str) -> Proxy:
        """A stopped proxy sharing the server's random source."""
        return Proxy(name, listen, upstream, self.rng)

    def get(self, name: str) -> Proxy:
        """The proxy called `name` or 404 `proxy not found`."""
        proxy = self.proxies.get(name)
        if proxy is None:
            raise PROXY_NOT_FOUND
        return proxy

    async def add(self, proxy: Proxy, start: bool) -> None:
        """Add a new proxy (409 if the name exists), starting it if asked."""
        if proxy.name in self.proxies:
            raise PROXY_ALREADY_EXISTS
        if start:
            await proxy.start()
        self.proxies[proxy.name] = proxy

    async def add_or_replace(self, proxy: Proxy, start: bool) -> Proxy:
        """Keep an existing proxy unless its listen or upstream differ, else replace it."""
        existing = self.proxies.get(proxy.name)
        if existing is not None:
            if not existing.differs(proxy.listen, proxy.upstream):
                return existing
            existing.stop()
        if start:
            await proxy.start()
        self.proxies[proxy.name] = proxy
        return proxy

    async def populate(self, raw: bytes) -> list[Proxy]:
        """Create or replace the proxies of a JSON array; on error raise `PopulateError`."""
        try:
            # Go decodes everything first; `null` is a nil slice, `[null]` a zero proxy.
            items = decode_list(read_json(raw), POPULATE_ITEM, POPULATE_LIST) or []
            specs = [
                (
                    i.get("name", ""),
                    i.get("listen", ""),
                    i.get("upstream", ""),
                    i.get("enabled", True),
                )
                for i in items
            ]
            for index, (name, _listen, upstream, _enabled) in enumerate(specs, start=1):
                if not name:
                    raise MISSING_FIELD.joined(f"name at proxy {index}")
                if not upstream:
                    raise MISSING_FIELD.joined(f"upstream at proxy {index}")
        except ApiError as exc:
            raise PopulateError(exc, None) from None
        done: list[Proxy] = []
        for name, listen, upstream, enabled in specs:
            try:
                proxy = self.new_proxy(name, listen, upstream)
                done.append(await self.add_or_replace(proxy, enabled))
            except ApiError as exc:
                raise PopulateError(exc, done) from None
        return done

    async def remove(self, name: str) -> None:
        """Stop and forget a proxy (404 if unknown)."""
        proxy = self.get(name)
        proxy.stop()
        del self.proxies[name]

    async def close(self) -> None:
        """Stop every proxy (server shutdown)."""
        for proxy in list(self.proxies.values()):
            await proxy.close()


class PopulateError(Exception):
    """A failed /populate: the error and the proxies created before it (None if invalid)."""

    def __init__(self, error: ApiError, proxies: list[Proxy] | None) -> None:
        super().__init__(error.message)
        self.error = error
        self.proxies = proxies
