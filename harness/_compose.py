"""The Compose v2 CLI, driven with one project name per run."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness import _docker, _paths
from harness._errors import ComposeError, PortInUse

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_PORT_TAKEN = re.compile(r"(address already in use|port is already allocated)", re.I)


class Compose:
    """`docker compose -p PROJECT -f FILE …` with the run's environment."""

    def __init__(
        self,
        project: str,
        files: Sequence[Path],
        env: Mapping[str, str],
        directory: Path | None = None,
    ) -> None:
        self.project = project
        self.files = list(files)
        # Relative paths in the project's own files resolve against its root; the packaged
        # file names its own directory through HARNESS_STACK_DIR.
        self.directory = directory
        stack = _paths.stack_dir()
        self.env = {
            "HARNESS_LITELLM_CONFIG": (stack / "config" / "litellm.yaml").read_text(),
            **os.environ,
            "HARNESS_STACK_DIR": str(stack),
            **env,
        }

    def command(self, *args: str, profiles: Sequence[str] = ()) -> list[str]:
        """The full command line for `args` (with those compose profiles enabled)."""
        cli = _docker.compose_cli()
        files = [arg for path in self.files for arg in ("-f", str(path))]
        enabled = [arg for profile in profiles for arg in ("--profile", profile)]
        where = ["--project-directory", str(self.directory)] if self.directory else []
        return [*cli, "-p", self.project, *where, *files, *enabled, *args]

    def run(self, *args: str, timeout: float | None = None, profiles: Sequence[str] = ()) -> str:
        """Run a compose command; on failure raise compose's own message as one error."""
        result = subprocess.run(
            self.command(*args, profiles=profiles),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            message = _last_meaningful_line(result.stderr or result.stdout)
            if _PORT_TAKEN.search(result.stderr):
                raise PortInUse(f"a host port is taken: {message}; free it or unset HARNESS_*_PORT")
            raise ComposeError(f"docker compose {args[0]} failed: {message}")
        return result.stdout

    def config(self) -> dict:
        """The normalized compose model (validates the file: compose's message on error)."""
        return json.loads(self.run("config", "--format", "json"))

    def up(self, services: Sequence[str], profiles: Sequence[str] = ()) -> None:
        """Create and start the services without waiting (the stack waits on health itself)."""
        self.run("up", "--detach", "--no-build", "--pull", "never", *services, profiles=profiles)

    def create(self, services: Sequence[str]) -> None:
        """Create the services' containers without starting them (to copy files in first)."""
        self.run("create", "--no-build", "--pull", "never", *services)

    def build(self, services: Sequence[str]) -> None:
        """Build the project's own images (those with a `build:`) that are missing or stale."""
        self.run("build", *services)

    def down(self) -> None:
        """Remove the project's containers, networks and volumes."""
        self.run("down", "--volumes", "--remove-orphans", "--timeout", "3")

    def logs(self, service: str, tail: int = 50) -> str:
        """The service's last `tail` log lines."""
        try:
            text = self.run("logs", "--no-color", "--no-log-prefix", "--tail", str(tail), service)
            return _ANSI.sub("", text)
        except ComposeError as error:
            return f"(no logs: {error})"


def _last_meaningful_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
