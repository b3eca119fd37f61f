"""`python -m harness.mocks.wan2gp --host 127.0.0.1 --port 7860 [--seed S] [--health-route]`."""

from __future__ import annotations

import os

import uvicorn

from .._control import mock_arg_parser
from ._app import Config, build_app


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes", "on")


def main(argv: list[str] | None = None) -> None:
    """Parse flags (env fallbacks) and serve the mock."""
    env = os.environ.get
    parser = mock_arg_parser("wan2gp", default_port=int(env("SERVER_PORT", "7860")))
    parser.add_argument(
        "--step-seconds",
        type=float,
        default=float(env("MOCK_STEP_SECONDS", "0.05")),
        help="seconds per denoising step",
    )
    parser.add_argument(
        "--fail-token",
        default=env("WAN2GP_FAIL_TOKEN", "FAIL_GEN"),
        help="prompts containing this fail with a gr.Error",
    )
    parser.add_argument(
        "--health-route",
        action="store_true",
        default=_flag("WAN2GP_HEALTH_ROUTE"),
        help="serve GET /api/health (real Wan2GP has none: 404 by default)",
    )
    parser.add_argument(
        "--output-dir",
        default=env("WAN2GP_OUTPUT_DIR"),
        help="where generated MP4s are written (default: a temp dir)",
    )
    # Wan2GP's own spellings (shared/cli_args.py), for drop-in command lines.
    parser.add_argument("--server-port", dest="port", type=int, help="alias of --port")
    parser.add_argument("--server-name", dest="host", help="alias of --host")
    parser.add_argument(
        "--listen", dest="host", action="store_const", const="0.0.0.0", help="bind 0.0.0.0"
    )
    args = parser.parse_args(argv)
    config = Config(
        seed=args.seed,
        step_seconds=args.step_seconds,
        fail_token=args.fail_token,
        health_route=args.health_route,
        output_dir=args.output_dir,
    )
    # Gradio clients hold a heartbeat stream open: bound the graceful shutdown so SIGTERM exits.
    uvicorn.run(
        build_app(config),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
