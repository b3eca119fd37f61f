"""The mocks' own code, imported on first use (it needs the `mocks` extra)."""

from __future__ import annotations

import importlib
from typing import Any

from .._errors import HarnessError


class MocksMissing(HarnessError):
    """The mocks package (or its dependencies) cannot be imported."""


def mock_attribute(module: str, name: str) -> Any:
    """`module.name` from the mocks package, or one line naming the extra to install."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise MocksMissing(
            f"{module} cannot be imported ({exc}): pip install 'mediastack-harness[mocks]'"
        ) from None
