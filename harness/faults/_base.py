"""The one shape every fault has: apply, clear, describe — and a context manager around both."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, ClassVar, Self

from harness import _events
from harness._errors import HarnessError


class FaultError(HarnessError):
    """A fault that cannot be applied as asked; nothing of it was left applied."""


class UnsupportedByKernel(FaultError):
    """The running kernel lacks what the fault needs (e.g. sch_netem)."""


class Fault(ABC):
    """A fault on one layer. `apply()` and `clear()` are idempotent; `with fault:` scopes it."""

    layer: ClassVar[str]

    def __init__(self) -> None:
        self.active = False

    @abstractmethod
    def _apply(self) -> None: ...

    @abstractmethod
    def _clear(self) -> None: ...

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What the fault does, as plain data (for reports and `harness fault list`)."""

    def apply(self) -> Self:
        """Inject the fault (all or nothing)."""
        if not self.active:
            self._apply()
            self.active = True
            _events.emit("fault applied", **self.describe())
        return self

    def clear(self) -> None:
        """Revert the fault."""
        if self.active:
            self._clear()
            self.active = False
            _events.emit("fault cleared", **self.describe())

    def __enter__(self) -> Self:
        return self.apply()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.clear()

    def __repr__(self) -> str:
        details = " ".join(f"{k}={v}" for k, v in self.describe().items())
        return f"<{type(self).__name__} {details}>"


def require(condition: bool, message: str) -> None:
    """Reject impossible attributes before anything is applied."""
    if not condition:
        raise FaultError(message)
