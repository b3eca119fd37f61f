"""Report data as a person reads it: a failure's cause line, a fault, a stack event."""

from __future__ import annotations

import re
from typing import Any

_ERROR_LINE = re.compile(r"^E\s+(?P<text>\S.*)$", re.M)
_SKIP = {
    "layer",
    "fault",
    "proxy",
    "service",
    "direction",
    "toxicity",
    "kind",
    "time",
    "worker",
    "test",
}
_UNITS = {"latency": "ms", "jitter": "ms", "timeout": "ms", "delay": "ms", "rate": "KB/s"}


def cause(message: str | None) -> str:
    """The line that says why a test failed: pytest's last `E   …` line, else the last line."""
    if not message:
        return ""
    errors = [m["text"] for m in _ERROR_LINE.finditer(message)]
    typed = [line for line in errors if re.match(r"^[\w.]+(Error|Exception|Exit)\b", line)]
    lines = typed or errors or [line for line in message.splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else ""


def _where(fields: dict[str, Any]) -> str:
    proxy = str(fields.get("proxy") or "")
    service, _, namespace = proxy.partition("--")
    service = service or str(fields.get("service") or "?")
    parts = [service]
    if fields.get("direction"):
        parts.append(str(fields["direction"]))
    if namespace:
        parts.append(namespace.rsplit("-", 1)[-1] if namespace.startswith("hx-") else namespace)
    elif fields.get("layer") in ("kernel", "container"):
        parts.append("isolated" if fields.get("shared") is False else "shared stack")
    return parts[0] + (", " + ", ".join(parts[1:]) if parts[1:] else "")


def fault(fields: dict[str, Any]) -> str:
    """`latency 500 ms ±50 on comfyui, downstream, gw0`."""
    name = str(fields.get("fault", "?"))
    values = {k: v for k, v in fields.items() if k not in _SKIP}
    amount = ""
    if name in values:
        amount = f" {values.pop(name)} {_UNITS.get(name, '')}".rstrip()
    if "jitter" in values:
        jitter = values.pop("jitter")
        amount += f" ±{jitter}" if jitter else ""
    rest = "".join(f" {k} {v}" for k, v in values.items())
    toxicity = fields.get("toxicity")
    odds = f" ({toxicity:.0%} of connections)" if toxicity not in (None, 1, 1.0) else ""
    return f"{name}{amount}{rest} on {_where(fields)}{odds}"


def event(fields: dict[str, Any]) -> str:
    """One stack event as a line: `gw1 proxy created wan2gp--gw0 0.0.0.0:20003`."""
    kind = str(fields.get("kind", "?"))
    who = str(fields.get("worker", "?"))
    if kind.startswith("fault"):
        return f"{who} {kind}: {fault(fields)}"
    if kind.startswith("proxy"):
        target = fields.get("upstream") or fields.get("listen") or ""
        return f"{who} {kind} {fields.get('proxy', '?')} {target}".rstrip()
    if kind == "health":
        return f"{who} health {fields.get('service', '?')}: {fields.get('state', '?')}"
    return f"{who} {kind} {fields.get('test', '')}".rstrip()
