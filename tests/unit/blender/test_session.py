"""The Blender session API against small add-ons written here (real bpy 5.0.1, own process)."""

from __future__ import annotations

import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import blender
from harness._waiting import wait_for
from harness.blender import Session

ADDON = '''
bl_info = {"name": "Probe", "blender": (4, 2, 0), "category": "Development"}
import logging, threading
import bpy
log = logging.getLogger(__name__)

class ProbePrefs(bpy.types.AddonPreferences):
    bl_idname = __package__
    url: bpy.props.StringProperty(name="Backend URL", default="http://127.0.0.1:1")

class PROBE_OT_talk(bpy.types.Operator):
    bl_idname = "probe.talk"
    bl_label = "Talk"
    level: bpy.props.StringProperty(default="INFO")
    def execute(self, context):
        log.warning("talking at %s", self.level)
        self.report({self.level}, f"said {self.level.lower()}")
        if self.level == "ERROR":
            return {"CANCELLED"}
        context.scene.probe_count += 1
        return {"FINISHED"}

class PROBE_OT_crash(bpy.types.Operator):
    bl_idname = "probe.crash"
    bl_label = "Crash"
    def execute(self, context):
        raise ZeroDivisionError("probe divided by zero")

class PROBE_OT_work(bpy.types.Operator):
    """Backend work off the UI thread, its result picked up by a timer."""
    bl_idname = "probe.work"
    bl_label = "Work"
    def execute(self, context):
        box = {}
        threading.Thread(target=lambda: box.update(answer=42)).start()
        def collect():
            if "answer" not in box:
                return 0.05
            bpy.context.scene.probe_count = box["answer"]
            return None
        bpy.app.timers.register(collect)
        return {"FINISHED"}

class PROBE_PT_main(bpy.types.Panel):
    bl_idname = "PROBE_PT_main"
    bl_label = "Probe"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    @classmethod
    def poll(cls, context):
        return context.scene.probe_visible
    def draw(self, context):
        prefs = context.preferences.addons[__package__].preferences
        layout = self.layout
        layout.label(text=f"count {context.scene.probe_count}", icon="INFO")
        row = layout.row()
        row.alert = context.scene.probe_count > 2
        row.prop(prefs, "url")
        sub = layout.column()
        sub.enabled = False
        op = sub.operator("probe.talk", text="Warn")
        op.level = "WARNING"

def tick():
    bpy.context.scene.frame_current += 1
    return 1.0 if bpy.context.scene.frame_current < 4 else None

def bad_tick():
    raise RuntimeError("timer went wrong")

def register():
    bpy.types.Scene.probe_count = bpy.props.IntProperty()
    bpy.types.Scene.probe_visible = bpy.props.BoolProperty(default=True)
    for cls in (ProbePrefs, PROBE_OT_talk, PROBE_OT_crash, PROBE_OT_work, PROBE_PT_main):
        bpy.utils.register_class(cls)
    bpy.app.timers.register(tick, first_interval=1.0)
    bpy.app.timers.register(bad_tick, first_interval=10.0)

def unregister():
    for cls in (PROBE_PT_main, PROBE_OT_work, PROBE_OT_crash, PROBE_OT_talk, ProbePrefs):
        bpy.utils.unregister_class(cls)
'''


def write_addon(root: Path, name: str, source: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(textwrap.dedent(source))
    return folder


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Session, str]]:
    folder = write_addon(tmp_path_factory.mktemp("addons"), "probe", ADDON)
    with Session(clock="stepped") as session:
        yield session, session.enable(folder)


def test_operator_returns_its_result_set_and_reports(probe: tuple[Session, str]) -> None:
    session, _ = probe
    before = session.get("bpy.context.scene.probe_count")
    info = session.operator("probe.talk", level="INFO")
    assert info.result == {"FINISHED"}
    assert [(r.type, r.message) for r in info.reports] == [("INFO", "said info")]
    warning = session.operator("probe.talk", level="WARNING")
    assert warning.messages("WARNING") == ["said warning"]
    error = session.operator("probe.talk", level="ERROR")
    assert error.result == {"CANCELLED"}
    assert error.messages("ERROR") == ["said error"]
    assert session.get("bpy.context.scene.probe_count") == before + 2
    # the log is the session's stderr, read as it comes: wait for the line, with a deadline
    wait_for(lambda: "WARNING probe: talking at ERROR" in session.log, 10, "the add-on's log line")


def test_operator_raising_gives_its_traceback(probe: tuple[Session, str]) -> None:
    session, _ = probe
    crashed = session.operator("probe.crash")
    assert crashed.result == {"CANCELLED"}
    assert crashed.error is not None and "ZeroDivisionError" in crashed.error
    assert any("probe divided by zero" in text for text in session.tracebacks())


def test_properties_by_data_path(probe: tuple[Session, str]) -> None:
    session, _ = probe
    assert session.set("bpy.context.scene.frame_end", 120) == 120
    assert session.get("bpy.context.scene.frame_end") == 120
    assert session.get("bpy.data.scenes['Scene'].frame_end") == 120
    assert session.get("bpy.data.objects['Cube'].location") == [0.0, 0.0, 0.0]
    session.set("bpy.data.objects['Cube'].location", [1.0, 2.0, 3.0])
    assert session.get("bpy.data.objects['Cube'].location") == [1.0, 2.0, 3.0]
    with pytest.raises(blender.BlenderError, match="cannot set"):
        session.set("bpy.context.scene.frame_end", "many")


def test_preferences_and_panel_tree(probe: tuple[Session, str]) -> None:
    session, module = probe
    prefs = session.preferences(module, url="http://127.0.0.1:8188")
    assert prefs == {"url": "http://127.0.0.1:8188"}
    session.set("bpy.context.scene.probe_count", 3)
    tree = session.panel("PROBE_PT_main")
    assert tree.poll and tree.data["label"] == "Probe"
    assert tree.find("label") == [
        {"type": "label", "text": "count 3", "icon": "INFO", **_state(True, True, False)}
    ]
    url = tree.prop("url")
    assert (url["value"], url["text"], url["alert"]) == (
        "http://127.0.0.1:8188",
        "Backend URL",
        True,
    )
    assert tree.find("prop", alert=True) == [url]  # the state inherited from its row
    assert tree.find("label", alert=True) == []
    [button] = tree.operators()
    assert button["idname"] == "probe.talk" and button["properties"] == {"level": "WARNING"}
    assert button["text"] == "Warn" and button["enabled"] is False and button["known"]
    assert "PROBE_PT_main" in session.panels()
    session.set("bpy.context.scene.probe_visible", False)
    assert session.panel("PROBE_PT_main").poll is False
    session.set("bpy.context.scene.probe_visible", True)


def _state(enabled: bool, active: bool, alert: bool) -> dict[str, bool]:
    return {"enabled": enabled, "active": active, "alert": alert}


def test_timers_stepped(probe: tuple[Session, str]) -> None:
    session, _ = probe
    session.set("bpy.context.scene.frame_current", 1)
    names = [timer["name"] for timer in session.timers.listing()]
    assert "tick" in names and "bad_tick" in names
    assert session.timers.step(0.5) == 0
    assert session.get("bpy.context.scene.frame_current") == 1
    session.timers.step(0.5)
    assert session.get("bpy.context.scene.frame_current") == 2
    session.timers.step(5.0)  # 3, 4, then tick returns None: unregistered
    assert session.get("bpy.context.scene.frame_current") == 4
    assert "tick" not in [timer["name"] for timer in session.timers.listing()]
    session.timers.step(10.0)
    assert any("timer went wrong" in text for text in session.tracebacks())
    assert "bad_tick" not in [timer["name"] for timer in session.timers.listing()]


def test_background_work_collected_by_a_timer_on_the_real_clock(
    probe: tuple[Session, str],
) -> None:
    session, _ = probe
    session.set("bpy.context.scene.probe_count", 0)
    session.timers.clock("real")
    try:
        assert session.operator("probe.work").result == {"FINISHED"}
        assert session.wait_for("bpy.context.scene.probe_count", lambda v: v == 42) == 42
    finally:
        session.timers.clock("stepped")


MANIFEST = """
schema_version = "1.0.0"
id = "probe_ext"
version = "1.0.0"
name = "Probe extension"
tagline = "A probe"
maintainer = "harness"
type = "add-on"
blender_version_min = "4.2.0"
license = ["SPDX:GPL-3.0-or-later"]
"""

EXTENSION = """
import bpy
class PROBEEXT_OT_hello(bpy.types.Operator):
    bl_idname = "probe_ext.hello"
    bl_label = "Hello"
    def execute(self, context):
        self.report({"INFO"}, f"hello from {__package__}")
        return {"FINISHED"}
def register():
    bpy.utils.register_class(PROBEEXT_OT_hello)
def unregister():
    bpy.utils.unregister_class(PROBEEXT_OT_hello)
"""


def test_extension_from_a_zip_and_bad_input(tmp_path: Path) -> None:
    folder = write_addon(tmp_path, "probe_ext", EXTENSION)
    (folder / "blender_manifest.toml").write_text(MANIFEST)
    archive = tmp_path / "probe_ext-1.0.0.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in folder.iterdir():
            zipped.write(path, path.name)
    not_addon = write_addon(tmp_path, "plain", "x = 1\n")
    raising = write_addon(
        tmp_path,
        "raising",
        'bl_info = {"name": "R", "blender": (4, 2, 0)}\n'
        "def register():\n    raise ValueError('no backend configured')\n"
        "def unregister():\n    pass\n",
    )
    with Session(clock="stepped") as session:
        module = session.enable(archive)
        assert module == "bl_ext.user_default.probe_ext"
        hello = session.operator("probe_ext.hello")
        assert hello.messages("INFO") == ["hello from bl_ext.user_default.probe_ext"]
        with pytest.raises(blender.AddonError, match="does not exist"):
            session.enable(tmp_path / "missing")
        with pytest.raises(blender.AddonError, match=r"no bl_info .* no blender_manifest\.toml"):
            session.enable(not_addon)
        with pytest.raises(
            blender.RegisterFailed, match=r"register\(\) of add-on raising raised ValueError"
        ):
            session.enable(raising)
        wait_for(lambda: "no backend configured" in session.log, 10, "the traceback in the log")
        assert any("no backend configured" in text for text in session.tracebacks())
        with pytest.raises(blender.UnknownOperator, match=r"unknown operator 'probe\.nope'"):
            session.operator("probe.nope")
        with pytest.raises(blender.UnknownDataPath, match="unknown data path"):
            session.get("bpy.context.scene.no_such_thing")
        with pytest.raises(blender.UnknownDataPath, match="not a data path"):
            session.get("__import__('os').system('true')")
        with pytest.raises(blender.UnknownDataPath, match="unknown panel"):
            session.panel("NOPE_PT_none")


def test_a_python_without_bpy_is_one_line(tmp_path: Path) -> None:
    no_site = tmp_path / "python-without-bpy"  # this Python with no site-packages: no bpy
    no_site.write_text(f'#!/bin/sh\nexec {sys.executable} -S "$@"\n')
    no_site.chmod(0o755)
    with pytest.raises(blender.BpyUnavailable) as raised:
        Session(python=str(no_site))
    message = str(raised.value)
    assert f"{no_site} cannot import bpy: bpy 5.0.1 needs Python 3.11" in message
    assert "HARNESS_BLENDER_PYTHON=image" in message and "\n" not in message


def test_wrong_python_names_the_python_bpy_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.blender import _session

    monkeypatch.delenv("HARNESS_BLENDER_PYTHON", raising=False)
    monkeypatch.setattr(_session, "BPY_PYTHON", (3, 99))
    monkeypatch.setattr(_session, "_image_present", lambda: False)
    with pytest.raises(blender.BpyUnavailable) as raised:
        _session.runtime()
    message = str(raised.value)
    assert "needs Python 3.99" in message and _session.IMAGE in message
    assert "\n" not in message
    monkeypatch.setattr(_session, "_image_present", lambda: True)
    chosen = _session.runtime()
    assert chosen.in_image and chosen.command[:2] == ("docker", "run")
    assert "using the image" in chosen.note
    assert chosen.path("/tmp/x") == "/host/tmp/x"
