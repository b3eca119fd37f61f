"""Every failure the harness reports is a `HarnessError`: one line that names the fix."""

from __future__ import annotations


class HarnessError(Exception):
    """Base class: `str(error)` is a single line a person can act on."""


class DockerUnavailable(HarnessError):
    """The Docker engine does not answer."""


class ComposeMissing(HarnessError):
    """The Compose v2 CLI plugin is not installed."""


class ComposeError(HarnessError):
    """`docker compose` refused or failed; the message is compose's own."""


class UnknownService(HarnessError):
    """A service name that the compose file does not define."""


class PortInUse(HarnessError):
    """A fixed host port asked for is taken by another process."""


class ImageMissing(HarnessError):
    """An image the stack needs is not present locally."""


class HealthTimeout(HarnessError):
    """A service did not become healthy; carries its last log lines and what Docker did to it."""

    def __init__(
        self, message: str, logs: dict[str, str] | None = None, events: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.logs = logs or {}
        self.events = events or []

    def __str__(self) -> str:
        text = super().__str__()
        for service, lines in self.logs.items():
            text += f"\n--- last log lines of {service} ---\n{lines.rstrip()}"
        if self.events:
            text += "\n--- container events ---\n" + "\n".join(self.events)
        return text


class ConfigError(HarnessError):
    """The project's configuration is invalid: names the file, the key and what is allowed."""


class ConfigMissing(ConfigError):
    """No configuration found: names `harness init`."""


class ServiceFailed(HarnessError):
    """A service under test exited or never turned healthy; carries its state and output."""
