"""Which services a test reached: the logs a failing test gets.

A test reaches a service through a client fixture (`redis_client` …), through `backends` /
`mock_http` (the addresses it asked for), through an app fixture built on `backends` (the studio:
every backend its worker handed out), or through `faults`; anything behind a proxy adds the
proxy's own log.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from harness import _topology as topology

PROXY_SERVICE = topology.PROXY_SERVICE
_PLUMBING = {"backends", "mock_http", "faults", "stack"}


def current_test() -> str:
    """The running test's node id ('' outside a test), as pytest publishes it."""
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]


def services(item: Any, fixture_services: Mapping[str, str], backends: Any) -> list[str]:
    """The services `item` reached, sorted; the proxy's log whenever one was behind a proxy."""
    used: Iterable[str] = getattr(item, "fixturenames", ())
    reached = {fixture_services[name] for name in used if name in fixture_services}
    if backends is not None:
        reached |= backends.reached.get(item.nodeid, set())
        definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
        for name in used:
            argnames = {a for d in definitions.get(name, ()) for a in d.argnames}
            if "backends" in argnames and name not in fixture_services and name not in _PLUMBING:
                reached |= set(backends.handed_out())  # an app on this worker's proxies
        if reached:
            reached.add(PROXY_SERVICE)
    faults = (getattr(item, "funcargs", None) or {}).get("faults")
    for fault in getattr(faults, "history", ()):
        where = fault.get("service") or str(fault.get("proxy", "")).split("--", 1)[0]
        if where:
            reached.add(where)
        if fault.get("proxy"):
            reached.add(PROXY_SERVICE)
    return sorted(reached)
