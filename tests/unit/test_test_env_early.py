"""test-env before collection, without Docker: which processes render with their own proxies."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness import _test_env


@pytest.mark.parametrize(
    ("options", "distributed"),
    [
        ({}, False),  # no xdist at all
        ({"numprocesses": None, "dist": "no", "tx": []}, False),
        ({"numprocesses": 2, "dist": "no"}, True),
        ({"numprocesses": 0, "dist": "load"}, False),  # -n 0: the controller runs the tests
        ({"numprocesses": "auto"}, True),
        ({"numprocesses": "auto", "usepdb": True}, False),  # xdist turns itself off
        ({"numprocesses": 2, "collectonly": True}, False),  # the controller collects
        ({"numprocesses": None, "dist": "load", "tx": ["popen"]}, True),
    ],
)
def test_the_controller_renders_its_own_only_when_it_runs_the_tests(
    options: dict[str, object], distributed: bool
) -> None:
    assert _test_env._distributed(SimpleNamespace(**options)) is distributed
