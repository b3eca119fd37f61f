"""mediastack-harness: real and mocked AI-media backends in one compose stack, faults on every
layer, one stack shared by pytest-xdist workers.

The public API is what this module exports (``__all__``) and the documented submodule APIs:
``harness.faults`` (fault types), ``harness.data`` and ``harness.data.strategies`` (seeded test
data), ``harness.blender`` (Blender add-on sessions), ``harness.reports`` (latency samples), the
pytest plugin's fixtures and hooks (``harness.plugin``, ``harness.hookspecs``), and the mocks run as
``python -m harness.mocks.<name>``. Every other module is private, whatever its name.

    from harness import Faults, WorkerBackends, wait_for

    def test_retry(backends: WorkerBackends, faults: Faults) -> None:
        with faults.latency("redis", ms=300):
            ...
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness._errors import (
        ComposeError,
        ComposeMissing,
        ConfigError,
        ConfigMissing,
        DockerUnavailable,
        HarnessError,
        HealthTimeout,
        ImageMissing,
        PortInUse,
        ServiceFailed,
        UnknownService,
    )
    from harness._journal import Exchange, Journal
    from harness._prometheus import Prometheus, PrometheusError
    from harness._reaper import leftovers
    from harness._stack import Address, Stack
    from harness._waiting import wait_for
    from harness.faults import Fault, FaultError, Faults, UnsupportedByKernel
    from harness.plugin import LITELLM_MASTER_KEY, ServiceUnderTest, WorkerBackends
    from harness.reports import record_latency

# Each public name and the module it lives in, imported on first use (as pydantic does), so that
# `python -m harness.mocks.<name>` and `harness --help` do not pay for docker, pytest and the rest.
_EXPORTS = {
    "LITELLM_MASTER_KEY": "harness.plugin",
    "Address": "harness._stack",
    "ComposeError": "harness._errors",
    "ComposeMissing": "harness._errors",
    "ConfigError": "harness._errors",
    "ConfigMissing": "harness._errors",
    "DockerUnavailable": "harness._errors",
    "Exchange": "harness._journal",
    "Fault": "harness.faults",
    "FaultError": "harness.faults",
    "Faults": "harness.faults",
    "HarnessError": "harness._errors",
    "HealthTimeout": "harness._errors",
    "ImageMissing": "harness._errors",
    "Journal": "harness._journal",
    "PortInUse": "harness._errors",
    "Prometheus": "harness._prometheus",
    "PrometheusError": "harness._prometheus",
    "ServiceFailed": "harness._errors",
    "ServiceUnderTest": "harness._backends",
    "Stack": "harness._stack",
    "UnknownService": "harness._errors",
    "UnsupportedByKernel": "harness.faults",
    "WorkerBackends": "harness._backends",
    "leftovers": "harness._reaper",
    "record_latency": "harness.reports",
    "wait_for": "harness._waiting",
}

try:
    __version__ = _version("mediastack-harness")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "LITELLM_MASTER_KEY",
    "Address",
    "ComposeError",
    "ComposeMissing",
    "ConfigError",
    "ConfigMissing",
    "DockerUnavailable",
    "Exchange",
    "Fault",
    "FaultError",
    "Faults",
    "HarnessError",
    "HealthTimeout",
    "ImageMissing",
    "Journal",
    "PortInUse",
    "Prometheus",
    "PrometheusError",
    "ServiceFailed",
    "ServiceUnderTest",
    "Stack",
    "UnknownService",
    "UnsupportedByKernel",
    "WorkerBackends",
    "__version__",
    "leftovers",
    "record_latency",
    "wait_for",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
