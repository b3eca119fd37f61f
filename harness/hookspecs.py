"""Hooks an adopting project implements in its conftest.py."""

from __future__ import annotations

from typing import Any

import pytest

from harness._stack import Address


@pytest.hookspec(firstresult=True)
def pytest_harness_isolate_backend(
    name: str, address: Address, namespace: str, worker_id: str
) -> Any:
    """Give this xdist worker its own slice of one of the project's own backends.

    Called once per worker, the first time it reaches the backend `name` (through its proxy at
    `address`). The harness cannot know how to split a database; the project can, e.g. create a
    PostgreSQL database named after `namespace` and return its URL. The result is kept in
    `backends.isolation[name]`.
    """
