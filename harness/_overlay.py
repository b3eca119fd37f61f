"""The compose overlay the harness writes over a project's own compose files.

Compose merges it last, by its own rules: every service, network and volume of the project gets
the run's labels; a project backend joins the backends' network and publishes its client port
where the stack publishes (HARNESS_PUBLISH_HOST); a service under test joins the backends'
network too, keeping its own networks (it reaches its backends through their proxies at
`toxiproxy:<port>`, and host processes at `host.docker.internal`), listens on the port the
harness gives it, publishes that port, and gets its environment filled in by the harness at
start.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from harness import _paths
from harness._topology import Topology, env_name

RUN_LABELS = {
    "org.mediastack-harness.run": "${HARNESS_RUN_ID:-manual}",
    "org.mediastack-harness.owner": "${HARNESS_OWNER:-kept}",
}
APP_PORT_LABEL = "org.mediastack-harness.app-port"
PUBLISH = "${HARNESS_PUBLISH_HOST:-127.0.0.1}"
HOST_GATEWAY = "host.docker.internal:${HARNESS_HOST_GATEWAY:-host-gateway}"


class _Override(list[Any]):
    """A compose `!override` value: replaces what the project's file set for that key."""


def _represent_override(dumper: yaml.SafeDumper, data: _Override) -> yaml.Node:
    return dumper.represent_sequence("!override", list(data))


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Override, _represent_override)


def env_var(service: str, variable: str) -> str:
    """The env var carrying one rendered template of a service under test into compose."""
    return f"HARNESS_ENV_{env_name(service)}__{env_name(variable)}"


def document(stack: Topology) -> dict[str, Any]:
    """The overlay for the project's own compose services."""
    project = stack.project
    if project is None:
        return {}
    services: dict[str, Any] = {}
    own_networks = _service_networks(project.compose_paths)
    for name in project.compose_services:
        services[name] = {"labels": dict(RUN_LABELS)}
    for name, backend in project.config.extra_backends.items():
        services[name] |= {
            "networks": ["backend"],
            "ports": _Override(
                [f"{PUBLISH}:${{{env_name(f'HARNESS_{name}_PORT')}:-}}:{backend.port}"]
            ),
        }
    for name, service in stack.under_test.items():
        if service.is_process:
            continue
        port_var = service.port_var
        services[name] |= {
            "labels": {**RUN_LABELS, APP_PORT_LABEL: f"${{{port_var}:-0}}"},
            "networks": ["backend", *own_networks.get(name, ["default"])],
            "ports": _Override([f"{PUBLISH}::${{{port_var}:-65535}}"]),  # set at start
            "extra_hosts": [HOST_GATEWAY],
            "environment": {
                variable: f"${{{env_var(name, variable)}:-}}" for variable in service.config.env
            },
        }
    volumes: dict[str, Any] = {}
    networks: dict[str, Any] = {}
    for path in project.compose_paths:
        own = yaml.safe_load(path.read_text()) or {}
        volumes |= {str(name): {"labels": dict(RUN_LABELS)} for name in own.get("volumes") or {}}
        networks |= {str(name): {"labels": dict(RUN_LABELS)} for name in own.get("networks") or {}}
    overlay: dict[str, Any] = {"services": services}
    if volumes:
        overlay["volumes"] = volumes
    if networks:
        overlay["networks"] = networks
    return overlay


def _service_networks(paths: list[Path]) -> dict[str, list[str]]:
    """The networks each service of the project's compose files declares (a service that
    declares none is on the project's `default` network, which joining another would drop)."""
    found: dict[str, list[str]] = {}
    for path in paths:
        for name, spec in ((yaml.safe_load(path.read_text()) or {}).get("services") or {}).items():
            declared = (spec or {}).get("networks")
            if declared:
                found[str(name)] = [str(n) for n in declared]
    return found


def write(stack: Topology) -> Path | None:
    """Write the overlay into the state directory (atomically); None without project services."""
    overlay = document(stack)
    if not overlay.get("services"):
        return None
    target = _paths.state_dir() / "compose.overlay.yaml"
    text = "# Written by mediastack-harness: do not edit (regenerated at every start).\n"
    text += yaml.dump(overlay, Dumper=_Dumper, sort_keys=False)
    with tempfile.NamedTemporaryFile("w", dir=target.parent, delete=False) as handle:
        handle.write(text)
    os.replace(handle.name, target)
    return target
