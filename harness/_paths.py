"""Where the project's files are: the compose directory, the local state directory."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def project_root() -> Path:
    """The checkout holding `compose/compose.yaml` (override with HARNESS_PROJECT_ROOT)."""
    override = os.environ.get("HARNESS_PROJECT_ROOT")
    if override:
        return Path(override).resolve()
    for candidate in (Path.cwd(), *Path.cwd().parents):
        if (candidate / "compose" / "compose.yaml").is_file():
            return candidate
    return PACKAGE_ROOT


def compose_dir() -> Path:
    """The directory with the stack's compose files and image definitions."""
    return project_root() / "compose"


def compose_file() -> Path:
    """The compose file that defines the whole stack."""
    return compose_dir() / "compose.yaml"


def state_dir() -> Path:
    """Local, git-ignored state: wheelhouses, the `make up` stack record (HARNESS_STATE_DIR)."""
    path = Path(os.environ.get("HARNESS_STATE_DIR") or project_root() / ".harness")
    path.mkdir(parents=True, exist_ok=True)
    return path
