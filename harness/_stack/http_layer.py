"""The stack's HTTP fault layer: where its API listens, and the route each HTTP backend's proxy
reaches it through (Toxiproxy → route `litellm--gw0` on the layer → LiteLLM), so an HTTP rule
on a route touches one proxy's, one worker's, requests."""

from __future__ import annotations

from harness._errors import HarnessError
from harness._httpfaults import HttpFaultsClient
from harness._stack import addresses
from harness._stack.addresses import Address
from harness._stack.inspection import Inspector
from harness._topology import HTTP_LAYER_SERVICE

LAYER = HTTP_LAYER_SERVICE
API_PORT = 8475  # the API's port in the container (compose.yaml)


class HttpLayer:
    """One stack's HTTP fault layer (its client made at first use)."""

    def __init__(self, inspector: Inspector) -> None:
        self._inspector = inspector
        self._client: HttpFaultsClient | None = None

    def api(self) -> Address:
        """Where this machine reaches the layer's API (the port the engine published)."""
        address = addresses.published(addresses.running(self._inspector, LAYER), API_PORT)
        if address is None:
            raise HarnessError(f"{LAYER} of stack {self._inspector.project} publishes no API port")
        return address

    @property
    def client(self) -> HttpFaultsClient:
        if self._client is None:
            self._client = HttpFaultsClient(self.api().url)
        return self._client

    def route(self, name: str, backend: str) -> str:
        """`host:port` where Toxiproxy reaches the route `name` to `backend` (made, kept, or
        re-pointed at `backend`)."""
        port = self.client.route(name, backend)["port"]
        return f"{addresses.network_ip(self._inspector, LAYER)}:{port}"

    def clear(self) -> None:
        """Forget the client (the stack is gone)."""
        if self._client is not None:
            self._client.close()
        self._client = None
