"""`python -m studio --host 127.0.0.1 --port 8000` (configuration: STUDIO_* env vars; the
address also from STUDIO_HOST and STUDIO_PORT)."""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from ._app import create_app
from ._settings import StudioSettings


def main(argv: list[str] | None = None) -> None:
    """Parse flags and serve the studio."""
    parser = argparse.ArgumentParser(prog="python -m studio", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("STUDIO_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("STUDIO_PORT", "8000")))
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    for noisy in ("httpx", "httpx2", "chromadb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    uvicorn.run(
        create_app(StudioSettings()), host=args.host, port=args.port, log_level=args.log_level
    )


if __name__ == "__main__":
    main()
