"""The mocks' own code, imported on first use (the `data` extra brings the mocks' dependencies)."""

from __future__ import annotations

from typing import Any

from .._optional import MissingExtra, require


class MocksMissing(MissingExtra):
    """The mocks package (or its dependencies) cannot be imported."""


def mock_attribute(module: str, name: str, feature: str) -> Any:
    """`module.name` from the mocks package, or one line naming the extra `feature` needs."""
    return getattr(require(module, "data", feature, error=MocksMissing), name)
