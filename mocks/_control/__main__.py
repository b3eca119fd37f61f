"""`python -m harness.mocks._control --port N`: the echo service exercising the control plane."""

from ._cli import mock_arg_parser, serve
from ._echo import create_app


def main() -> None:
    """Parse arguments and serve the echo app."""
    args = mock_arg_parser("_control", 8099).parse_args()
    serve(create_app(seed=args.seed), args.host, args.port)


if __name__ == "__main__":
    main()
