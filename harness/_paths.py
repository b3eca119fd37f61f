"""Where things are: the stack's packaged files, the adopting project, the local state."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def stack_dir() -> Path:
    """The packaged stack: compose files, image recipes, service configuration."""
    return PACKAGE_DIR / "compose"


def compose_file() -> Path:
    """The compose file that defines the packaged backends."""
    return stack_dir() / "compose.yaml"


def project_root() -> Path:
    """The adopting project's root (where its configuration is), else the working directory."""
    from harness import _config as config

    source = config.find_source()
    return source.parent if source else Path.cwd().resolve()


def state_dir() -> Path:
    """Local, git-ignored state: wheelhouses, run records (HARNESS_STATE_DIR, else
    `<project>/.harness`)."""
    path = Path(os.environ.get("HARNESS_STATE_DIR") or project_root() / ".harness")
    path.mkdir(parents=True, exist_ok=True)
    return path
