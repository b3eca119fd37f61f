"""Where the benchmark scripts put their figures: printed, and written as JSON in results/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def publish(name: str, figures: dict[str, Any]) -> Path:
    """Print the figures and write them to `results/<name>.json`; returns that path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    return path
