"""The HTML report in a real browser (issue 14): headless Chromium (Debian's `chromium`, which
`make setup` installs) renders the failure section and the timeline of a synthetic run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PIL import Image

from harness.reports import _writer as writer
from harness.reports._collect import RunCollector

CAUSE = "httpx.ConnectError: [Errno 111] Connection refused"
REQUESTS = ("harness logs: litellm requests", "POST /v1/chat/completions 429 answered (fault r1)")
HIT = {"service": "litellm", "proxy": "litellm--gw0", "rule": "r1", "action": "status"}
HIT |= {"method": "POST", "path": "/v1/chat/completions", "status": 429, "outcome": "answered"}
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1280,2400",
]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "no chromium on PATH: `make setup` installs it (apt-get install -y chromium)"
    return found


def _report(nodeid: str, when: str, start: float, stop: float, worker: str, **extra: Any) -> Any:
    failed = extra.pop("failed", False)
    fields = {"failed": failed, "skipped": False, "passed": not failed, "sections": []}
    fields |= {"user_properties": [], "longreprtext": ""}
    return SimpleNamespace(
        nodeid=nodeid, when=when, start=start, stop=stop, duration=stop - start,
        worker_id=worker, **{**fields, **extra},
    )  # fmt: skip


def _run(tmp_path: Path) -> Path:
    collector = RunCollector("hx-browser")
    t0 = 1_800_000_000.0
    plan = [
        ("tests/a.py::test_one", "gw0", 0, 4, False),
        ("tests/studio/test_connectivity.py::test_parallel", "gw0", 5, 12, True),
        ("tests/b.py::test_exclusive_kill", "gw1", 1, 4.5, False),
        ("tests/b.py::test_after", "gw1", 5, 11, False),
    ]
    for nodeid, worker, start, end, fails in plan:
        collector.add(_report(nodeid, "setup", t0 + start, t0 + start + 0.1, worker))
        message = f"    client = Client(url)\nE   {CAUSE}\n" if fails else ""
        logs = [("harness logs: wan2gp", "Running on local URL"), REQUESTS] if fails else []
        call = _report(
            nodeid, "call", t0 + start + 0.1, t0 + end - 0.1, worker,
            failed=fails, longreprtext=message, sections=logs,
        )  # fmt: skip
        collector.add(call)
        collector.add(_report(nodeid, "teardown", t0 + end - 0.1, t0 + end, worker))
    latency = {"layer": "tcp", "fault": "latency", "proxy": "comfyui--hx-browser-gw0"}
    latency |= {"direction": "downstream", "toxicity": 1.0, "latency": 500, "jitter": 50}
    events = [
        {"time": t0 + 1.2, "worker": "gw1", "kind": "exclusive entered", "test": "k"},
        {"time": t0 + 4.4, "worker": "gw1", "kind": "exclusive left", "test": "k"},
        {"time": t0 + 6, "worker": "gw0", "test": "p", "kind": "fault applied", **latency},
        {"time": t0 + 6.5, "worker": "gw0", "test": "p", "kind": "http fault hit", **HIT},
        {"time": t0 + 7, "worker": "gw1", "kind": "proxy re-pointed", "proxy": "wan2gp--gw0"},
        {"time": t0 + 10, "worker": "gw0", "test": "p", "kind": "fault cleared", **latency},
    ]
    directory = tmp_path / "report"
    report = collector.build({}, events)
    assert writer.write_all(directory, report, collector.failure_logs()) == []
    return directory / writer.REPORT_HTML


def test_chromium_renders_the_failures_first_and_the_timeline(tmp_path: Path) -> None:
    page = _run(tmp_path)
    browser = [_chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*browser, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    summary, failures = dom.index('id="summary"'), dom.index('id="failures"')
    timeline = dom.index('id="timeline"')
    assert summary < failures < timeline  # the summary, then the failures, then the timeline
    assert CAUSE in dom[failures:timeline] and "wan2gp--gw0" in dom[failures:timeline]
    assert "latency 500 ms ±50 on comfyui, downstream, gw0" in dom
    assert dom.count('class="test ') == 4 and 'class="exclusive"' in dom
    assert "litellm requests" in dom[failures:timeline]  # the requests the failed test made
    assert 'class="hit"' in dom  # the request the HTTP fault touched, on its worker's lane
    assert "litellm POST /v1/chat/completions: 429 (status, rule r1)" in dom[timeline:]
    shot = tmp_path / "report.png"
    subprocess.run(
        [*browser, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120
    )
    colors = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20) or []
    painted = {rgb for count, rgb in colors if count >= 50}
    # the timeline's bars and overlays were painted: passed, failed, the fault window, a hit
    assert {(0x4C, 0xAF, 0x50), (0xD3, 0x2F, 0x2F), (0xFF, 0x98, 0x00)} <= painted
    dots = {rgb for count, rgb in colors if count >= 10}  # a dot is small
    assert any(abs(r - 0x6A) < 24 and g < 0x50 and abs(b - 0x9A) < 24 for r, g, b in dots)
