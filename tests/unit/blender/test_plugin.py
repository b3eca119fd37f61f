"""The pytest fixtures in an inner pytest run: blender_addon with templated preferences, and a
failing test's report carrying the session log and the add-on's tracebacks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from .test_session import ADDON, write_addon

INNER = """
from types import SimpleNamespace
import pytest

@pytest.fixture
def blender_endpoints():
    return {"backend": SimpleNamespace(host="127.0.0.1", port=8188)}

def test_prefs_point_at_the_endpoint(blender_addon):
    assert blender_addon.module == "probe"
    assert blender_addon.preferences == {"url": "http://127.0.0.1:8188/api"}
    tree = blender_addon.session.panel("PROBE_PT_main")
    assert tree.prop("url")["value"] == "http://127.0.0.1:8188/api"

def test_failing_shows_the_log(blender_addon):
    blender_addon.session.operator("probe.crash")
    assert False, "fails on purpose"
"""


def test_fixtures_and_failure_report(tmp_path: Path) -> None:
    addon = write_addon(tmp_path, "probe", ADDON)
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER))
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nblender_addon = probe\nblender_prefs =\n"
        "    url = http://{backend.host}:{backend.port}/api\n"
    )
    assert addon.is_dir()
    inner = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
         "-q", "-n", "0", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    out = inner.stdout
    assert "1 failed, 1 passed" in out, out[-3000:]
    assert "Blender session log" in out
    assert "Blender add-on tracebacks" in out
    assert "ZeroDivisionError: probe divided by zero" in out
