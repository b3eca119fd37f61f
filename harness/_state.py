"""The record of the stack `harness up` started, so tests and the CLI can attach to it."""

from __future__ import annotations

import json
import os
from typing import Any

from harness import _paths
from harness._errors import HarnessError

UP_PROJECT = os.environ.get("HARNESS_UP_PROJECT") or "hx-local"  # the `harness up` project


def _record_path() -> Any:
    return _paths.state_dir() / "stack.json"


def write_up_record(project: str, services: list[str]) -> None:
    """Remember the stack `harness up` started."""
    _record_path().write_text(json.dumps({"project": project, "services": services}))


def read_up_record() -> dict[str, Any]:
    """The stack `harness up` started, or an error naming `make up`."""
    path = _record_path()
    if not path.exists():
        raise HarnessError("no stack started by `harness up`: run `harness up` first")
    return dict(json.loads(path.read_text()))


def clear_up_record() -> None:
    """Forget the `harness up` stack (after `harness down`)."""
    _record_path().unlink(missing_ok=True)


def attached_project(value: str) -> str:
    """The project to attach to: `--attach-run`'s, or `@up` (`--attach-stack`): `harness up`'s."""
    if value != "@up":
        return value
    return str(read_up_record()["project"])
