"""Report text for a person (issue 14): a failure's cause line, faults and stack events."""

from __future__ import annotations

from harness.reports import _text

TRACEBACK = """\
    def test_parallel():
>       client = Client(url)

.venv/lib/python3.12/site-packages/httpx/_transports/default.py:118: in map_httpcore_exceptions
E   httpx.ConnectError: [Errno 111] Connection refused

During handling of the above exception, another exception occurred:
E   assert 0 > 1000
"""


def test_cause_is_the_last_typed_error_line() -> None:
    assert _text.cause(TRACEBACK) == "httpx.ConnectError: [Errno 111] Connection refused"
    assert _text.cause("E   assert 1 == 2\nE    +  where 1 = f()") == "+  where 1 = f()"
    assert _text.cause("AssertionError: boom") == "AssertionError: boom"
    assert _text.cause(None) == ""


def test_faults_read_as_text() -> None:
    latency = {
        "layer": "tcp",
        "fault": "latency",
        "proxy": "comfyui--hx-abc123-gw0",
        "direction": "downstream",
        "toxicity": 1.0,
        "latency": 500,
        "jitter": 50,
    }
    assert _text.fault(latency) == "latency 500 ms ±50 on comfyui, downstream, gw0"
    kill = {"layer": "container", "fault": "kill", "service": "redis"}
    assert _text.fault(kill) == "kill on redis, shared stack"
    loss = {"layer": "kernel", "fault": "loss", "service": "redis", "percent": 20}
    assert _text.fault(loss) == "loss percent 20 on redis, shared stack"
    half = {**latency, "toxicity": 0.5, "jitter": 0}
    assert _text.fault(half) == "latency 500 ms on comfyui, downstream, gw0 (50% of connections)"


def test_events_read_as_text() -> None:
    repoint = {
        "kind": "proxy re-pointed",
        "worker": "gw1",
        "proxy": "wan2gp--x-gw0",
        "upstream": "a:1",
    }
    assert _text.event(repoint) == "gw1 proxy re-pointed wan2gp--x-gw0 a:1"
    assert _text.event(
        {"kind": "health", "worker": "gw1", "service": "redis", "state": "starting"}
    ) == ("gw1 health redis: starting")
    entered = {"kind": "exclusive entered", "worker": "gw1", "test": "t.py::k"}
    assert _text.event(entered) == "gw1 exclusive entered t.py::k"
