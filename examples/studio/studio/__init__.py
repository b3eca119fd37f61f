"""Studio: a small AI media platform (scripts, characters, keyframes, clips, VODs) on FastAPI.

`create_app(settings)` builds the ASGI app; `python -m studio --port N` serves it.
"""

from ._app import create_app
from ._settings import StudioSettings

__all__ = ["StudioSettings", "create_app"]
