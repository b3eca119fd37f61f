"""Errors the API maps to HTTP answers."""

from __future__ import annotations


class StudioError(Exception):
    """Base class: `status` is the HTTP status the API answers with."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(StudioError):
    """An unknown project or episode."""

    status = 404


class Conflict(StudioError):
    """E.g. an Idempotency-Key reused with a different request body."""

    status = 422


class BackendError(StudioError):
    """A backend call failed after its retries (or the backend is misconfigured)."""

    status = 503

    def __init__(self, backend: str, message: str, *, transient: bool = False) -> None:
        super().__init__(f"{backend}: {message}")
        self.backend = backend
        self.transient = transient  # the backend was unreachable or overloaded: worth waiting


class PipelineError(StudioError):
    """A pipeline step failed for a non-transient reason (e.g. the renderer reported an error)."""

    status = 502
