"""harness._waiting.wait_for: the one way the harness and its tests wait on a condition."""

import pytest

from harness._waiting import wait_for


def test_wait_for_fails_on_deadline() -> None:
    with pytest.raises(AssertionError, match="timed out"):
        wait_for(lambda: False, timeout=0.05, what="nothing")
