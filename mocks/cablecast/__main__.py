"""`python -m harness.mocks.cablecast --host 127.0.0.1 --port 8083 [--seed S]`."""

from __future__ import annotations

import os

from .._control import mock_arg_parser, serve
from ._app import Config, build_app


def main(argv: list[str] | None = None) -> None:
    """Parse flags (env fallbacks) and serve the mock."""
    env = os.environ.get
    parser = mock_arg_parser("cablecast", default_port=8083)
    parser.add_argument("--shows", type=int, default=int(env("CABLECAST_SHOWS", "40")))
    parser.add_argument("--user", default=env("CABLECAST_USER", "admin"))
    parser.add_argument("--password", default=env("CABLECAST_PASSWORD", "admin"))
    parser.add_argument(
        "--step-seconds",
        type=float,
        default=float(env("MOCK_STEP_SECONDS", "1.0")),
        help="seconds per VOD lifecycle step (queued, each processing step)",
    )
    parser.add_argument(
        "--processing-steps", type=int, default=int(env("CABLECAST_PROCESSING_STEPS", "4"))
    )
    parser.add_argument(
        "--vod-error-token",
        default=env("CABLECAST_VOD_ERROR_TOKEN", "FAIL_VOD"),
        help="VODs of shows whose title contains this end in vodState=error",
    )
    args = parser.parse_args(argv)
    config = Config(
        seed=args.seed,
        shows=args.shows,
        user=args.user,
        password=args.password,
        step_seconds=args.step_seconds,
        processing_steps=args.processing_steps,
        error_token=args.vod_error_token,
    )
    serve(build_app(config), args.host, args.port)


if __name__ == "__main__":
    main()
