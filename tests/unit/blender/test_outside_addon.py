"""Done-when of issue 22: an add-on written outside the repository, whose status panel is fed by
a modal operator on a window-manager event timer (started from a start-up timer that returns a
set, as published add-ons do), shows "connected" with the ComfyUI mock up and "disconnected"
after the mock is stopped, through `harness blender run` alone, the add-on unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

ADDON = """
bl_info = {"name": "Outside status", "blender": (4, 2, 0), "category": "Sequencer"}
import threading, urllib.request
import bpy

class OutsidePrefs(bpy.types.AddonPreferences):
    bl_idname = __package__
    comfyui_url: bpy.props.StringProperty(name="ComfyUI", default="http://127.0.0.1:8188")
    debug = bpy.props.BoolProperty(default=False)  # pre-2.80 style: never registered

class OUTSIDE_OT_discover_services(bpy.types.Operator):
    bl_idname = "outside.discover_services"
    bl_label = "Discover services"
    def execute(self, context):
        self._pending, self._answer = False, None
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}
    def modal(self, context, event):
        if event.type == "ESC":
            context.window_manager.event_timer_remove(self._timer)
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        if self._answer is not None:
            context.scene.outside_status = self._answer
            self._answer = None
        if not self._pending:
            self._pending = True
            url = context.preferences.addons[__package__].preferences.comfyui_url
            threading.Thread(target=self._probe, args=(url,), daemon=True).start()
        return {"PASS_THROUGH"}
    def _probe(self, url):
        try:
            with urllib.request.urlopen(url + "/system_stats", timeout=1):
                answer = "connected"
        except OSError:
            answer = "disconnected"
        self._answer, self._pending = answer, False

class OUTSIDE_PT_status(bpy.types.Panel):
    bl_idname = "OUTSIDE_PT_status"
    bl_label = "Services"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    def draw(self, context):
        self.layout.label(text=f"ComfyUI: {context.scene.outside_status}")

def _startup():
    bpy.ops.outside.discover_services()
    return {"RUNNING_MODAL"}

def register():
    bpy.types.Scene.outside_status = bpy.props.StringProperty(default="unknown")
    for cls in (OutsidePrefs, OUTSIDE_OT_discover_services, OUTSIDE_PT_status):
        bpy.utils.register_class(cls)
    bpy.app.timers.register(_startup, first_interval=0.2)

def unregister():
    for cls in (OUTSIDE_PT_status, OUTSIDE_OT_discover_services, OutsidePrefs):
        bpy.utils.unregister_class(cls)
"""

CONFTEST = """
import os, socket, subprocess, sys, time, urllib.request
from types import SimpleNamespace
import pytest

@pytest.fixture
def comfyui():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.mocks.comfyui", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/__harness/health", timeout=1)
            break
        except OSError:
            assert time.monotonic() < deadline, "the ComfyUI mock did not start"
            time.sleep(0.1)  # polling interval of the readiness wait (deadline above)
    yield SimpleNamespace(host="127.0.0.1", port=port, process=process)
    process.kill()
    process.wait()

@pytest.fixture
def blender_endpoints(comfyui):
    return {"comfyui": comfyui}
"""

TEST = """
def _status(session):
    return session.panel("OUTSIDE_PT_status").labels()

def test_status_follows_comfyui(blender_addon, comfyui):
    session = blender_addon.session
    session.wait_for("bpy.context.scene.outside_status", lambda s: s == "connected", 30)
    assert _status(session) == ["ComfyUI: connected"]
    assert [m["idname"] for m in session.modals()] == ["outside.discover_services"]
    comfyui.process.terminate()
    comfyui.process.wait()
    session.wait_for("bpy.context.scene.outside_status", lambda s: s == "disconnected", 30)
    assert _status(session) == ["ComfyUI: disconnected"]
    assert "callback <function _startup at" in session.log
    assert session.tracebacks() == []
"""


def test_outside_addon_status_panel_through_harness_blender_run(tmp_path: Path) -> None:
    addon = tmp_path / "outside_status"
    addon.mkdir()
    (addon / "__init__.py").write_text(textwrap.dedent(ADDON))
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "conftest.py").write_text(textwrap.dedent(CONFTEST))
    (tests / "test_outside.py").write_text(textwrap.dedent(TEST))
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nblender_prefs =\n    comfyui_url = http://{comfyui.host}:{comfyui.port}\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    run = subprocess.run(
        [sys.executable, "-m", "harness.cli", "blender", "run", str(addon), "--",
         "-p", "no:cacheprovider", "-q", "-n", "0"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout
