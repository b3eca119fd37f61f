"""Optional dependencies: each serves one feature and comes with the extra named for it. A missing
one is a single line naming the extra to install (`MissingExtra`, or `pytest.fail` in a fixture)."""

from __future__ import annotations

import importlib
from types import ModuleType

from harness._errors import HarnessError

DISTRIBUTION = "mediastack-harness"
# the distribution a person installs for a module whose name differs from it
_DISTRIBUTIONS = {"redis": "redis-py", "chromadb": "chromadb-client", "PIL": "Pillow"}


class MissingExtra(HarnessError, ImportError):
    """A feature's optional dependency cannot be imported: the message names the extra."""


def install_hint(extra: str) -> str:
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def require(
    module: str, extra: str, feature: str, error: type[MissingExtra] = MissingExtra
) -> ModuleType:
    """`module`, imported; or `error`: "<feature> needs <what>: pip install '...[<extra>]'"."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            top = exc.name.split(".")[0]
            needs = _DISTRIBUTIONS.get(top, top)
        else:  # present but unusable (too old, broken): say why
            needs = f"{module} ({exc})"
        raise error(f"{feature} needs {needs}: {install_hint(extra)}") from None


def fixture_require(module: str, extra: str, fixture: str) -> ModuleType:
    """`require` for a pytest fixture: a missing extra fails the test with that one line."""
    try:
        return require(module, extra, fixture)
    except MissingExtra as missing:
        import pytest

        pytest.fail(str(missing), pytrace=False)
