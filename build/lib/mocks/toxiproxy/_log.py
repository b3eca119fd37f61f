"""One JSON line per event on stdout (the mocks' logging convention)."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit(event: str, **fields: Any) -> None:
    """Write `{"service": "toxiproxy", "event": ..., **fields}` and flush."""
    sys.stdout.write(json.dumps({"service": "toxiproxy", "event": event, **fields}) + "\n")
    sys.stdout.flush()
