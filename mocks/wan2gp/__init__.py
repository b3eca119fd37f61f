"""Wan2GP mock: a real Gradio 5.29 app named like Wan2GP (`python -m harness.mocks.wan2gp`).

See README.md. Importing this package disables Gradio analytics.
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from ._app import Config, build_app

__all__ = ["Config", "build_app"]
