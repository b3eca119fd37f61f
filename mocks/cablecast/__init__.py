"""Cablecast REST API stub (`python -m harness.mocks.cablecast`); see README.md."""

from ._app import Config, build_app

__all__ = ["Config", "build_app"]
