"""`python -m mocks.httpfaults --host 0.0.0.0 --port 8475 --seed 1234`: the control API on
host:port, each route's listener on a port of its own (the kernel's choice)."""

from __future__ import annotations

import argparse
import os
import socket
import sys

import uvicorn

from ..toxiproxy._server import bind_api_socket, run
from ._api import create_app
from ._routes import RouteTable


async def serve(host: str, port: int, seed: int) -> None:
    """Serve the API until SIGINT/SIGTERM, with every route's listener in the same loop."""
    table = RouteTable(host)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(table, seed), log_level="warning", access_log=False, lifespan="off"
        )
    )
    try:
        await server.serve(sockets=[bind_api_socket(host, port)])
    finally:
        await table.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m mocks.httpfaults")
    parser.add_argument("--host", default=os.environ.get("MOCK_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("MOCK_PORT", "8475")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("MOCK_SEED", "0")))
    parser.add_argument("--check", action="store_true", help="exit 0 if the API answers")
    args = parser.parse_args(argv)
    if args.check:
        return check(args.port)
    run(serve(args.host, args.port, args.seed))
    return 0


def check(port: int) -> int:
    """The container's healthcheck: 0 when the API on this machine's `port` answers 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), 2) as connection:
            connection.sendall(b"GET /version HTTP/1.0\r\n\r\n")
            return 0 if connection.recv(64).startswith(b"HTTP/1.1 200 ") else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
