"""Common command line and server start-up for mocks."""

from __future__ import annotations

import argparse
import os

import uvicorn
from fastapi import FastAPI


def mock_arg_parser(service: str, default_port: int) -> argparse.ArgumentParser:
    """Parser with --host, --port and --seed (env MOCK_HOST, MOCK_PORT, MOCK_SEED)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m mocks.{service}", description=f"{service} mock"
    )
    parser.add_argument("--host", default=os.environ.get("MOCK_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("MOCK_PORT", default_port)))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("MOCK_SEED", "0")))
    return parser


def serve(app: FastAPI, host: str, port: int, log_level: str = "warning") -> None:
    """Run `app` under uvicorn (access log off: the control middleware logs JSON lines)."""
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
