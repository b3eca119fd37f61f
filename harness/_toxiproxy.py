"""A small typed client for Toxiproxy 2.x's HTTP API (upstream server or the compatible one).

`toxiproxy-python` (the upstream client) is unmaintained since 2019 and untyped; the harness talks
to the API directly with httpx. The conformance tests still drive the server with that client.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel

from harness._errors import HarnessError


class ToxiproxyError(HarnessError):
    """The Toxiproxy API refused a request."""


class ProxyExists(ToxiproxyError):
    """A proxy of that name exists already (409)."""


class Toxic(BaseModel):
    """One toxic as the API shows it."""

    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, Any]


class Proxy(BaseModel):
    """One proxy as the API shows it."""

    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: list[Toxic] = []

    @property
    def port(self) -> int:
        """The port the proxy listens on."""
        return int(self.listen.rsplit(":", 1)[1])


class ToxiproxyClient:
    """`ToxiproxyClient("http://127.0.0.1:8474")`."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self._http = httpx.Client(base_url=url, timeout=timeout)

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        try:
            response = self._http.request(method, path, json=json)
        except httpx.HTTPError as error:
            raise ToxiproxyError(f"Toxiproxy at {self.url} unreachable: {error}") from None
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            refused = ProxyExists if response.status_code == 409 else ToxiproxyError
            raise refused(f"Toxiproxy {method} {path}: {response.status_code} {message}")
        return response.json() if response.content else None

    def version(self) -> str:
        """The server's version string."""
        return str(self._call("GET", "/version")["version"])

    def proxies(self) -> dict[str, Proxy]:
        """Every proxy by name."""
        return {name: Proxy(**body) for name, body in self._call("GET", "/proxies").items()}

    def get(self, name: str) -> Proxy:
        """One proxy."""
        return Proxy(**self._call("GET", f"/proxies/{name}"))

    def create(self, name: str, listen: str, upstream: str, enabled: bool = True) -> Proxy:
        """Create a proxy; `ProxyExists` if the name is taken (never replaces one, unlike
        `populate`)."""
        body = {"name": name, "listen": listen, "upstream": upstream, "enabled": enabled}
        return Proxy(**self._call("POST", "/proxies", body))

    def populate(self, proxies: list[dict[str, Any]]) -> list[Proxy]:
        """Create or replace proxies in one call (unchanged ones are kept)."""
        return [Proxy(**body) for body in self._call("POST", "/populate", proxies)["proxies"]]

    def update(self, name: str, **fields: Any) -> Proxy:
        """Change a proxy's `enabled`, `listen` or `upstream`."""
        return Proxy(**self._call("PATCH", f"/proxies/{name}", fields))

    def delete(self, name: str) -> None:
        """Remove a proxy (its open connections are dropped)."""
        self._call("DELETE", f"/proxies/{name}")

    def add_toxic(
        self,
        proxy: str,
        type: str,
        attributes: dict[str, Any],
        *,
        stream: str = "downstream",
        toxicity: float = 1.0,
        name: str | None = None,
    ) -> Toxic:
        """Add a toxic; it applies to open connections too."""
        body = {"type": type, "stream": stream, "toxicity": toxicity, "attributes": attributes}
        if name:
            body["name"] = name
        return Toxic(**self._call("POST", f"/proxies/{proxy}/toxics", body))

    def remove_toxic(self, proxy: str, name: str) -> None:
        """Remove one toxic."""
        self._call("DELETE", f"/proxies/{proxy}/toxics/{name}")

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        self._call("POST", "/reset")

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()
