"""HTTP faults through the mocks' control API: status, delay, malformed body, dropped connection."""

from __future__ import annotations

from typing import Any

import httpx

from harness._backends import NAMESPACE_HEADER
from harness.faults._base import Fault, FaultError, require

MOCKS = ("comfyui", "wan2gp", "cablecast")


class HttpFault(Fault):
    """A fault rule in one mock, for one namespace: the next N requests, a fraction, or a path."""

    layer = "http"

    def __init__(
        self, service: str, control_url: str, namespace: str, rule: dict[str, Any]
    ) -> None:
        require(
            service in MOCKS,
            f"HTTP faults need a mock with a control API ({', '.join(MOCKS)}), not {service}",
        )
        rule = {key: value for key, value in rule.items() if value not in (None, False)}
        require(
            bool(rule.keys() - {"times", "fraction", "path", "method"}),
            "an HTTP fault needs status, delay_ms, malformed or drop",
        )
        super().__init__()
        self.service, self.rule = service, rule
        self._http = httpx.Client(
            base_url=control_url, headers={NAMESPACE_HEADER: namespace}, timeout=10
        )
        self.rule_id: str | None = None

    def _apply(self) -> None:
        response = self._http.post("/__harness/faults", json=self.rule)
        if response.status_code != 201:
            raise FaultError(
                f"HTTP fault on {self.service} refused: "
                f"{response.status_code} {response.text[:200]}"
            )
        self.rule_id = str(response.json()["id"])

    def _clear(self) -> None:
        if self.rule_id is not None:
            self._http.delete(f"/__harness/faults/{self.rule_id}")
            self.rule_id = None

    def describe(self) -> dict[str, Any]:
        return {"layer": self.layer, "fault": "http", "service": self.service, **self.rule}


def rules(control_url: str, namespace: str) -> list[dict[str, Any]]:
    """The fault rules active in one mock namespace."""
    response = httpx.get(
        f"{control_url}/__harness/faults", headers={NAMESPACE_HEADER: namespace}, timeout=10
    )
    response.raise_for_status()
    return list(response.json())


def clear_rules(control_url: str, namespace: str) -> int:
    """Delete every fault rule in one mock namespace."""
    response = httpx.delete(
        f"{control_url}/__harness/faults", headers={NAMESPACE_HEADER: namespace}, timeout=10
    )
    response.raise_for_status()
    return int(response.json()["deleted"])
