"""`python -m harness.mocks.comfyui --host 127.0.0.1 --port 8188 [--step-seconds S] [--seed N]`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .._control import mock_arg_parser, serve
from ._app import create_app
from ._state import Config


def main() -> None:
    """Parse arguments (env fallbacks MOCK_STEP_SECONDS, MOCK_OUTPUT_DIR, MOCK_PREVIEWS)."""
    parser = mock_arg_parser("comfyui", 8188)
    parser.add_argument(
        "--step-seconds", type=float, default=float(os.environ.get("MOCK_STEP_SECONDS", "0.01"))
    )
    parser.add_argument("--output-dir", default=os.environ.get("MOCK_OUTPUT_DIR"))
    parser.add_argument(
        "--no-previews",
        action="store_true",
        default=os.environ.get("MOCK_PREVIEWS", "1") == "0",
        help="do not send binary preview frames during KSampler steps",
    )
    args = parser.parse_args()
    root = Path(args.output_dir or tempfile.mkdtemp(prefix="comfyui-mock-"))
    config = Config(
        root=root, step_seconds=args.step_seconds, previews=not args.no_previews, seed=args.seed
    )
    serve(create_app(config), args.host, args.port)


if __name__ == "__main__":
    main()
