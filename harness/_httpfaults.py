"""A small typed client for the HTTP fault layer's API (`mocks/httpfaults`): routes, their fault
rules and their journals."""

from __future__ import annotations

from typing import Any

import httpx

from harness._errors import HarnessError


class HttpFaultsError(HarnessError):
    """The HTTP fault layer refused a request (its one-line reason)."""


class HttpFaultsClient:
    """`HttpFaultsClient("http://127.0.0.1:8475")`."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self._http = httpx.Client(base_url=url, timeout=timeout)

    def _call(self, method: str, path: str, json: Any = None, **params: Any) -> Any:
        try:
            response = self._http.request(method, path, json=json, params=params or None)
        except httpx.HTTPError as error:
            raise HttpFaultsError(f"HTTP fault layer at {self.url}: {error}") from None
        if response.status_code >= 400:
            try:
                reason = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                reason = response.text[:200]
            raise HttpFaultsError(str(reason))
        return response.json()

    def routes(self) -> dict[str, dict[str, Any]]:
        """Every route: name -> its port, upstream, rules and last journal number."""
        return dict(self._call("GET", "/routes"))

    def route(self, name: str, upstream: str) -> dict[str, Any]:
        """The route `name` to `upstream` (made, kept, or re-pointed at `upstream`)."""
        route = dict(self._call("POST", "/routes", {"name": name, "upstream": upstream}))
        if route["upstream"] != upstream:
            route = dict(self._call("PATCH", f"/routes/{name}", {"upstream": upstream}))
        return route

    def delete_route(self, name: str) -> None:
        self._call("DELETE", f"/routes/{name}")

    def add_fault(self, route: str, rule: dict[str, Any]) -> dict[str, Any]:
        """Add a rule to a route; the rule as the layer shows it (with its `id`)."""
        return dict(self._call("POST", f"/routes/{route}/faults", rule))

    def faults(self, route: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/routes/{route}/faults"))

    def remove_fault(self, route: str, rule_id: str) -> None:
        self._call("DELETE", f"/routes/{route}/faults/{rule_id}")

    def clear_faults(self, route: str) -> int:
        return int(self._call("DELETE", f"/routes/{route}/faults")["deleted"])

    def journal(self, route: str, after: int = 0) -> list[dict[str, Any]]:
        """A route's exchanges numbered above `after`, oldest first."""
        return list(self._call("GET", f"/routes/{route}/journal", after=after))

    def last(self, route: str) -> int:
        """The number of a route's newest exchange (0: none yet)."""
        return int(self._call("GET", f"/routes/{route}")["journal"])

    def close(self) -> None:
        self._http.close()
