"""HTTP faults through the HTTP fault layer: a rule on the route behind one proxy, so it touches
that proxy's (one worker's) requests to one HTTP backend: built-in, the project's own, or a
service under test.

A rule does one thing to the requests it hits: answer with a status (and body, headers), hold
them (`hang`), delay them (`delay_ms`, before the headers or between body chunks), reset the
connection before or after the response headers, truncate, corrupt or slow the body, or cut a
stream after N SSE events, WebSocket messages or chunks. It matches on method, path (glob or
regex), headers and a body substring, and hits the next N (`times`), every Nth (`every`), or
each with a `probability` drawn from the run's seed.
"""

from __future__ import annotations

import re
from typing import Any

from harness import _events
from harness._httpfaults import HttpFaultsClient, HttpFaultsError
from harness._topology import Topology
from harness.faults._base import Fault, FaultError, require

ACTIONS = ("status", "delay_ms", "reset", "truncate", "corrupt", "body_rate", "hang", "cut_after")


def check(service: str, rule: dict[str, Any]) -> dict[str, Any]:
    """The rule without its unset keys, or a one-line FaultError naming what is wrong."""
    rule = {key: value for key, value in rule.items() if value not in (None, False, {}, "")}
    if "retry_after" in rule:
        require("status" in rule, "retry_after goes with a status (e.g. status=429)")
        seconds = float(rule.pop("retry_after"))
        text = str(int(seconds)) if seconds.is_integer() else str(seconds)  # `2`, as servers say
        rule["headers"] = {**rule.get("headers", {}), "Retry-After": text}
    status = rule.get("status")
    require(status is None or 100 <= status <= 599, f"status must be 100..599, got {status}")
    probability = rule.get("probability")
    require(
        probability is None or 0 <= probability <= 1,
        f"probability must be within 0..1, got {probability}",
    )
    if "path_regex" in rule:
        try:
            re.compile(rule["path_regex"])
        except re.error as error:
            raise FaultError(f"path_regex {rule['path_regex']!r} is not a regex: {error}") from None
    actions = [name for name in ACTIONS if name in rule]
    require(bool(actions), f"an HTTP fault on {service} needs one of {', '.join(ACTIONS)}")
    others = [name for name in actions if name != "delay_ms"]
    require(len(others) <= 1, f"one action per HTTP fault (a delay may join it): {actions}")
    return rule


def validate(topology: Topology, service: str, rule: dict[str, Any]) -> dict[str, Any]:
    """`check` for a service of `topology` that speaks HTTP (no stack needed)."""
    topology.reachable(service)
    if not topology.speaks_http(service):
        raise FaultError(
            f"{service} does not speak HTTP: use a TCP fault on its proxy "
            f"(faults.latency({service!r}, ms=...), faults.down(...)) or a kernel fault"
        )
    return check(service, rule)


class HttpFault(Fault):
    """One rule on one route of the HTTP fault layer."""

    layer = "http"

    def __init__(
        self, client: HttpFaultsClient, service: str, route: str, rule: dict[str, Any]
    ) -> None:
        super().__init__()
        self.client, self.service, self.route = client, service, route
        self.rule = check(service, rule)
        self.rule_id: str | None = None
        self.mark = 0  # the route's newest exchange before the rule

    def _apply(self) -> None:
        try:
            self.mark = self.client.last(self.route)
            self.rule_id = str(self.client.add_fault(self.route, self.rule)["id"])
        except HttpFaultsError as error:
            raise FaultError(f"HTTP fault on {self.service}: {error}") from None

    def _clear(self) -> None:
        if self.rule_id is not None:
            try:
                self._report_hits()
                self.client.remove_fault(self.route, self.rule_id)
            except HttpFaultsError as error:
                if "has no fault" not in str(error) and "no route" not in str(error):
                    raise
            self.rule_id = None

    def _report_hits(self) -> None:
        """One event per request the rule touched, at its time (the report's timeline)."""
        for entry in self.client.journal(self.route, self.mark):
            if (entry.get("fault") or {}).get("rule") == self.rule_id:
                _events.emit(
                    "http fault hit",
                    time=entry["started"],
                    service=self.service,
                    proxy=self.route,
                    rule=self.rule_id,
                    action=entry["fault"]["action"],
                    method=entry["method"],
                    path=entry["path"],
                    status=entry["status"],
                    outcome=entry["outcome"],
                )

    def hits(self) -> int:
        """How many requests the rule has hit so far."""
        for rule in self.client.faults(self.route):
            if rule["id"] == self.rule_id:
                return int(rule["hits"])
        return 0

    def describe(self) -> dict[str, Any]:
        return {"layer": self.layer, "fault": "http", "service": self.service,
                "proxy": self.route, **self.rule}  # fmt: skip


def leftovers(client: HttpFaultsClient, routes: list[str]) -> list[str]:
    """Rules still present on these routes."""
    found = []
    for name, route in client.routes().items():
        if name in routes:
            found += [f"{name}: http rule {rule['id']}" for rule in route["faults"]]
    return found
