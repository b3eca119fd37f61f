"""The stack's real Prometheus as tests see it: queries, and waits on alerts and fresh samples.

    def test_gap_alert(prometheus):
        ...  # break something
        alert = prometheus.wait_for_alert("EpisodeNumberGap", labels={"project": pid})
        assert alert["state"] == "firing"

Prometheus is an optional backend (list "prometheus" in `backends`); the project's
`[prometheus]` table names the services under test it scrapes and its rule files. A test can
also have it scrape an address of its own for a while (`with prometheus.scrape(...)`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import httpx

from harness import _prometheus_config
from harness._errors import HarnessError
from harness._stack import addresses

AlertState = Literal["pending", "firing", "inactive"]
ALERT_STATES = ("pending", "firing", "inactive")
_targets = itertools.count(1)


class PrometheusError(HarnessError):
    """Prometheus refused a query (its own error text) or could not be reached."""


class Prometheus:
    """An httpx client on one Prometheus (this worker's proxy in front of the stack's)."""

    def __init__(
        self,
        url: str,
        *,
        run: str | None = None,
        namespace: str = "",
        reach: Callable[[str], str] = addresses.from_containers,
    ) -> None:
        self.url = url
        self.run = run  # the stack whose configuration directory `scrape` writes targets into
        self.namespace = namespace
        self.reach = reach  # an address of this machine as the Prometheus container reaches it
        self.http = httpx.Client(base_url=url, timeout=10)

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()

    # -- the HTTP API ------------------------------------------------------------------------
    def _get(self, path: str, **params: Any) -> Any:
        try:
            answer = self.http.get(path, params=params)
        except httpx.TransportError as error:
            raise PrometheusError(f"Prometheus at {self.url}: {type(error).__name__}") from None
        try:
            body = answer.json()
        except ValueError:
            raise PrometheusError(
                f"GET {path} answered {answer.status_code}: {answer.text[:200]}"
            ) from None
        if body.get("status") != "success":
            raise PrometheusError(f"GET {path}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query's result: `[{"metric": {...}, "value": [t, "v"]}, ...]`."""
        params = {"query": expr} | ({"time": at} if at is not None else {})
        data = self._get("/api/v1/query", **params)
        result = data["result"]
        return result if isinstance(result, list) else [{"metric": {}, "value": result}]

    def value(self, expr: str) -> float | None:
        """The single value of an instant query (None when it returns no series)."""
        result = self.query(expr)
        if len(result) > 1:
            raise PrometheusError(f"{expr} returned {len(result)} series, expected at most one")
        return float(result[0]["value"][1]) if result else None

    def query_range(
        self, expr: str, start: float, end: float, step: float = 1.0
    ) -> list[dict[str, Any]]:
        """A range query's result: `[{"metric": {...}, "values": [[t, "v"], ...]}, ...]`."""
        data = self._get("/api/v1/query_range", query=expr, start=start, end=end, step=step)
        return list(data["result"])

    def alerts(self) -> list[dict[str, Any]]:
        """Every active (pending or firing) alert."""
        return list(self._get("/api/v1/alerts")["alerts"])

    def targets(self) -> list[dict[str, Any]]:
        """The active scrape targets, with their health and last error."""
        return list(self._get("/api/v1/targets", state="active")["activeTargets"])

    def rules(self) -> list[dict[str, Any]]:
        """The loaded rule groups."""
        return list(self._get("/api/v1/rules")["groups"])

    # -- waiting -----------------------------------------------------------------------------
    def wait_for_alert(
        self,
        name: str,
        state: AlertState = "firing",
        *,
        labels: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> dict[str, Any] | None:
        """Wait until an alert called `name` (with these labels) is in `state`; return it.

        `inactive` waits until no such alert is pending or firing (it resolved) and returns None.
        On timeout: an AssertionError naming what was seen last.
        """
        if state not in ALERT_STATES:
            raise ValueError(f"state must be one of {', '.join(ALERT_STATES)}, got {state!r}")
        self._known_alert(name)
        wanted = labels or {}
        deadline = time.monotonic() + timeout
        while True:
            matching = [
                alert
                for alert in self.alerts()
                if alert["labels"].get("alertname") == name
                and all(alert["labels"].get(k) == v for k, v in wanted.items())
            ]
            if state == "inactive" and not matching:
                return None
            for alert in matching:
                if alert["state"] == state:
                    return alert
            if time.monotonic() > deadline:
                seen = ", ".join(f"{a['state']} {a['labels']}" for a in matching) or "inactive"
                raise AssertionError(
                    f"alert {name} {wanted or ''} not {state} after {timeout:.0f} s (seen: {seen})"
                )
            time.sleep(0.1)

    def _known_alert(self, name: str) -> None:
        names = [
            rule["name"]
            for group in self.rules()
            for rule in group["rules"]
            if rule.get("type") == "alerting"
        ]
        if name not in names:
            raise PrometheusError(
                f"no alerting rule {name!r} is loaded; loaded: {', '.join(names) or 'none'} "
                "(list rule files in [prometheus] rules)"
            )

    def wait_for_sample(self, series: str, *, newer_than: float, timeout: float = 30.0) -> float:
        """Wait until `series` (a PromQL selector) has a sample newer than `newer_than` (Unix
        time, e.g. `time.time()` before the change); return that sample's timestamp."""
        deadline = time.monotonic() + timeout
        newest: float | None = None
        while True:
            found = self.query(f"max(timestamp({series}))")
            newest = float(found[0]["value"][1]) if found else None
            if newest is not None and newest > newer_than:
                return newest
            if time.monotonic() > deadline:
                seen = "no sample" if newest is None else f"newest at {newest:.3f}"
                raise AssertionError(
                    f"no sample of {series} newer than {newer_than:.3f} after {timeout:.0f} s "
                    f"({seen}; targets: {self._target_health()})"
                )
            time.sleep(0.1)

    def _target_health(self) -> str:
        return (
            ", ".join(
                f"{t['labels'].get('job')} {t['health']}"
                + (f" ({t['lastError']})" if t.get("lastError") else "")
                for t in self.targets()
            )
            or "none"
        )

    # -- targets of a test's own -------------------------------------------------------------
    @contextmanager
    def scrape(
        self, job: str, address: str, *, labels: dict[str, str] | None = None, path: str = ""
    ) -> Iterator[dict[str, str]]:
        """Scrape `address` (`host:port` of this machine: a process the test started, listening
        on `stack.process_host()`, or one of the stack's proxies) as `job` while the block
        runs; its series carry `harness_namespace` (this worker's) and `labels`. Yields the
        target's labels."""
        if self.run is None:
            raise PrometheusError("this client has no stack to add targets to (run=None)")
        name = f"{self.namespace or 'test'}-{job}-{next(_targets)}"
        target = {"job": job, "harness_namespace": self.namespace, **(labels or {})}
        if path:
            target["__metrics_path__"] = path
        _prometheus_config.write_target(self.run, name, self.reach(address), target)
        try:
            yield {k: v for k, v in target.items() if not k.startswith("__")}
        finally:
            _prometheus_config.remove_target(self.run, name)
