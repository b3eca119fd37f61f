"""`python -m harness.mocks.toxiproxy --host 0.0.0.0 --port 8474 [--config FILE] [--seed N]`.

Flags mirror upstream's `toxiproxy-server` (`-host -port -config -seed -version`); both
`-host` and `--host` spellings work. Env fallbacks: MOCK_HOST, MOCK_PORT, MOCK_SEED,
TOXIPROXY_CONFIG, MOCK_TOXIPROXY_VERSION (the string `/version` reports).
"""

from __future__ import annotations

import argparse
import os
import sys

from . import DEFAULT_VERSION
from ._server import run, serve


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse upstream-style flags."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.mocks.toxiproxy", description="Toxiproxy 2.x compatible server"
    )
    env = os.environ.get
    parser.add_argument("-host", "--host", default=env("MOCK_HOST", "127.0.0.1"))
    parser.add_argument("-port", "--port", type=int, default=int(env("MOCK_PORT", "8474")))
    parser.add_argument("-config", "--config", default=env("TOXIPROXY_CONFIG") or None)
    parser.add_argument("-seed", "--seed", type=int, default=int(env("MOCK_SEED", "0")))
    parser.add_argument("-version", "--version", action="store_true", help="print the version")
    parser.add_argument(
        "--version-string",
        default=env("MOCK_TOXIPROXY_VERSION", DEFAULT_VERSION),
        help="what GET /version reports",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    if args.version:
        print(f"toxiproxy-server version {args.version_string}")
        return 0
    run(serve(args.host, args.port, args.config, args.seed, args.version_string))
    return 0


if __name__ == "__main__":
    sys.exit(main())
