"""The route table: one listener per route, its backend, its rules and its journal."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from ._journal import Exchange, Journal
from ._relay import Relay
from ._rules import Rule, RuleSpec


class RouteError(Exception):
    """A request the table refuses: `status` and a one-line `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class Route:
    """One listener in front of one backend address (`host:port`)."""

    def __init__(self, name: str, upstream: str) -> None:
        self.name = name
        self.upstream = upstream
        self.rules: list[Rule] = []
        self.journal = Journal(name)
        self.server: asyncio.Server | None = None
        self._numbers = itertools.count(1)
        self._relays: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def upstream_address(self) -> tuple[str, int]:
        host, _, port = self.upstream.rpartition(":")
        return host.strip("[]"), int(port)

    async def start(self, host: str) -> None:
        self.server = await asyncio.start_server(self._accept, host, 0, backlog=1024)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._relays.add(task)
        try:
            await Relay(self, reader, writer).run()
        finally:
            self._relays.discard(task)

    async def close(self) -> None:
        for rule in self.rules:
            rule.released.set()
        if self.server is not None:
            self.server.close()
        for task in list(self._relays):
            task.cancel()

    # -- rules ---------------------------------------------------------------------------------
    def add(self, spec: RuleSpec) -> Rule:
        rule = Rule(next(self._numbers), self.name, spec)
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                self.rules.remove(rule)
                rule.released.set()
                return rule
        raise RouteError(404, f"route {self.name} has no fault {rule_id}")

    def clear(self) -> int:
        removed, self.rules = self.rules, []
        for rule in removed:
            rule.released.set()
        return len(removed)

    def candidates(self, exchange: Exchange) -> list[Rule]:
        """The live rules whose method, path and headers match (the body is checked later)."""
        if not self.rules:
            return []
        return [rule for rule in self.rules if not rule.exhausted and rule.matches(exchange)]

    @staticmethod
    def pick(candidates: list[Rule], exchange: Exchange, body: bytes) -> Rule | None:
        """The first rule that matches the whole request and hits it (counted once)."""
        for rule in candidates:
            if rule.matches(exchange, body) and rule.fires():
                return rule
        return None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": f"0.0.0.0:{self.port}",
            "port": self.port,
            "upstream": self.upstream,
            "faults": [rule.describe() for rule in self.rules],
            "journal": self.journal.last,
        }


class RouteTable:
    """Every route, by name."""

    def __init__(self, host: str = "0.0.0.0") -> None:
        self.host = host
        self.routes: dict[str, Route] = {}
        self._lock = asyncio.Lock()

    def get(self, name: str) -> Route:
        try:
            return self.routes[name]
        except KeyError:
            raise RouteError(404, f"no route {name}") from None

    async def create(self, name: str, upstream: str) -> tuple[Route, bool]:
        """The route `name` (made now, or the one that exists: callers race), and whether it is
        new."""
        async with self._lock:
            if name in self.routes:
                return self.routes[name], False
            route = Route(name, upstream)
            await route.start(self.host)
            self.routes[name] = route
            return route, True

    async def delete(self, name: str) -> None:
        route = self.get(name)
        del self.routes[name]
        await route.close()

    async def close(self) -> None:
        for name in list(self.routes):
            await self.delete(name)
