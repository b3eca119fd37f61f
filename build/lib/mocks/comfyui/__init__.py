"""ComfyUI mock: queue, validation, WebSocket events, real PNGs (see docs in _app/_routes)."""

from ._app import create_app
from ._executor import FLAG_FAIL_NODE, FLAG_STEP_SECONDS
from ._node_types import MAGIC_ERROR_TOKEN
from ._state import Config

__all__ = ["FLAG_FAIL_NODE", "FLAG_STEP_SECONDS", "MAGIC_ERROR_TOKEN", "Config", "create_app"]
