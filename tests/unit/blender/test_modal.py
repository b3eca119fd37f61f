"""Blender's main loop in the session: modal operators on event timers, timer return values,
request deadlines, undeclared preferences (real bpy 5.0.1 in its own process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import blender
from harness._waiting import wait_for
from harness.blender import Session

from .test_session import write_addon

MODAL = '''
bl_info = {"name": "Modal probe", "blender": (4, 2, 0), "category": "Development"}
import logging, threading, time
import bpy
log = logging.getLogger(__name__)

class ModalPrefs(bpy.types.AddonPreferences):
    bl_idname = __package__
    verbose = bpy.props.BoolProperty(default=False)  # the pre-2.80 way: not registered
    url: bpy.props.StringProperty(name="URL")

class MODALPROBE_OT_count(bpy.types.Operator):
    """Counts TIMER events as Blender's modal timer template does, ends at `until`."""
    bl_idname = "modalprobe.count"
    bl_label = "Count"
    until: bpy.props.IntProperty(default=3)
    passing: bpy.props.BoolProperty(default=False)
    def invoke(self, context, event):
        context.scene.frame_current = 0
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        self.report({"INFO"}, f"counting to {self.until} (invoked with {event.type})")
        return {"RUNNING_MODAL"}
    def modal(self, context, event):
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        context.scene.frame_current += 1
        if context.scene.frame_current >= self.until:
            context.window_manager.event_timer_remove(self._timer)
            self.report({"INFO"}, f"counted {context.scene.frame_current} in "
                        f"{self._timer.time_duration:.1f} s")
            return {"FINISHED"}
        return {"PASS_THROUGH"} if self.passing else {"RUNNING_MODAL"}

class MODALPROBE_OT_quiet(bpy.types.Operator):
    """Modal from execute(), as some add-ons write it; counts events into frame_end."""
    bl_idname = "modalprobe.quiet"
    bl_label = "Quiet"
    def execute(self, context):
        context.scene.frame_end = 0
        self._timer = context.window_manager.event_timer_add(0.25, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}
    def modal(self, context, event):
        if event.type == "TIMER":
            context.scene.frame_end += 1
        if context.scene.frame_end >= 100:
            return {"CANCELLED"}
        return {"PASS_THROUGH"}

class MODALPROBE_OT_broken(bpy.types.Operator):
    bl_idname = "modalprobe.broken"
    bl_label = "Broken"
    def invoke(self, context, event):
        self._timer = context.window_manager.event_timer_add(0.1, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}
    def modal(self, context, event):
        raise KeyError("modal went wrong")

class MODALPROBE_OT_windowless(bpy.types.Operator):
    bl_idname = "modalprobe.windowless"
    bl_label = "Windowless"
    def invoke(self, context, event):
        self._timer = context.window_manager.event_timer_add(0.1)  # no window: no events
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}
    def modal(self, context, event):
        return {"FINISHED"}

class MODALPROBE_OT_hang(bpy.types.Operator):
    bl_idname = "modalprobe.hang"
    bl_label = "Hang"
    def execute(self, context):
        log.warning("waiting for a backend that never answers")
        threading.Event().wait()
        return {"FINISHED"}

def set_answer():
    return {"RUNNING_MODAL"}

def string_answer():
    return "1.0"

def exits():
    raise SystemExit(3)

CLASSES = (ModalPrefs, MODALPROBE_OT_count, MODALPROBE_OT_quiet, MODALPROBE_OT_broken,
           MODALPROBE_OT_windowless, MODALPROBE_OT_hang)

def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.app.timers.register(set_answer, first_interval=0.5)
    bpy.app.timers.register(string_answer, first_interval=0.5)
    bpy.app.timers.register(exits, first_interval=0.5)

def unregister():
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
'''


@pytest.fixture(scope="module")
def addon(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_addon(tmp_path_factory.mktemp("addons"), "modalprobe", MODAL)


@pytest.fixture(scope="module")
def stepped(addon: Path) -> Iterator[Session]:
    with Session(clock="stepped") as session:
        session.enable(addon)
        yield session


def test_modal_operator_gets_timer_events_in_due_order_on_the_stepped_clock(
    stepped: Session,
) -> None:
    started = stepped.operator("modalprobe.count", invoke=True, until=3)
    assert started.result == {"RUNNING_MODAL"}
    assert started.messages("INFO") == ["counting to 3 (invoked with NONE)"]
    [running] = stepped.modals()
    assert running["idname"] == "modalprobe.count" and running["events"] == 0
    assert [t["kind"] for t in stepped.timers.listing()].count("event") == 1
    stepped.timers.step(0.09)
    assert stepped.get("bpy.context.scene.frame_current") == 0
    stepped.timers.step(0.01)  # 0.1 s: the first TIMER event
    assert stepped.get("bpy.context.scene.frame_current") == 1
    ended = stepped.wait_modal("modalprobe.count", timeout=1.0)
    assert ended.result == {"FINISHED"} and ended.events == 3 and ended.error is None
    assert ended.messages("INFO") == ["counting to 3 (invoked with NONE)", "counted 3 in 0.3 s"]
    assert stepped.modals() == []
    assert "event" not in [t["kind"] for t in stepped.timers.listing()]  # it removed its timer


def test_running_modal_takes_the_event_pass_through_hands_it_on(stepped: Session) -> None:
    """Two modal operators in one window: the newest gets each TIMER event first; PASS_THROUGH
    hands it on to the next, RUNNING_MODAL keeps it (Blender's wm_handlers_do). Every timer of
    the window sends its events to all of the window's handlers."""
    scene = "bpy.context.scene"
    assert stepped.operator("modalprobe.quiet").result == {"RUNNING_MODAL"}  # from execute()
    stepped.operator("modalprobe.count", invoke=True, until=1000, passing=True)
    assert [m["idname"] for m in stepped.modals()] == ["modalprobe.count", "modalprobe.quiet"]
    stepped.timers.step(0.5)  # count's timer 5 events, quiet's 2: both see all 7
    assert (stepped.get(f"{scene}.frame_current"), stepped.get(f"{scene}.frame_end")) == (7, 7)
    stepped.set(f"{scene}.frame_current", 999)
    stepped.timers.step(0.1)  # count finishes on it (FINISHED without PASS_THROUGH: it stops)
    assert stepped.get(f"{scene}.frame_end") == 7
    assert stepped.wait_modal("modalprobe.count", timeout=0).result == {"FINISHED"}
    stepped.operator("modalprobe.count", invoke=True, until=1000)  # RUNNING_MODAL: keeps them
    stepped.timers.step(1.0)
    assert (stepped.get(f"{scene}.frame_current"), stepped.get(f"{scene}.frame_end")) == (14, 7)
    with pytest.raises(blender.BlenderError, match=r"modalprobe.count is still running after"):
        stepped.wait_modal("modalprobe.count", timeout=0.5)
    stepped.set(f"{scene}.frame_current", 999)
    stepped.set(f"{scene}.frame_end", 100)
    stepped.timers.step(0.5)  # count finishes on its first event, quiet cancels on the next
    assert stepped.wait_modal("modalprobe.quiet", timeout=0).result == {"CANCELLED"}
    assert stepped.modals() == []


def test_modal_raising_is_cancelled_with_its_traceback(stepped: Session) -> None:
    timers = [t["kind"] for t in stepped.timers.listing()].count("event")
    stepped.operator("modalprobe.broken", invoke=True)
    ended = stepped.wait_modal("modalprobe.broken", timeout=1.0)
    assert ended.result == {"CANCELLED"} and ended.events == 1
    assert ended.error == "KeyError: 'modal went wrong'"
    assert any("modal went wrong" in text for text in stepped.tracebacks())
    # as in Blender, its timer outlives it (the operator never got to remove it)
    assert [t["kind"] for t in stepped.timers.listing()].count("event") == timers + 1


def test_a_timer_without_window_sends_no_events_as_in_blender(addon: Path) -> None:
    with Session(clock="stepped") as session:
        session.enable(addon)
        session.operator("modalprobe.windowless", invoke=True)
        with pytest.raises(blender.BlenderError, match=r"still running after 1 s \(0 event"):
            session.wait_modal("modalprobe.windowless", timeout=1.0)
        assert "without a window: as in Blender, it sends no TIMER events" in session.log


def test_invoke_only_operator_without_invoke_is_an_invalid_call(stepped: Session) -> None:
    """Blender: an operator with invoke() and no execute() called without an event."""
    assert stepped.operator("modalprobe.count").result == {"PASS_THROUGH"}
    wait_for(
        lambda: "Invalid operator call 'MODALPROBE_OT_count'" in stepped.log, 10, "the log line"
    )
    with pytest.raises(blender.UnknownOperator, match=r"no modal operator 'nope\.nothing'"):
        stepped.wait_modal("nope.nothing", timeout=0.1)


def test_timer_return_values_as_blender_reads_them(stepped: Session) -> None:
    stepped.timers.step(0.5)  # registered 0.5 s after enabling: they have run by now
    names = {t["name"] for t in stepped.timers.listing()}
    assert not {"set_answer", "string_answer", "exits"} & names  # all three dropped
    for name in ("set_answer", "string_answer"):
        line = f"Error: 'bpy.app.timers' callback <function {name} at 0x"
        wait_for(lambda line=line: line in stepped.log, 10, f"Blender's line for {name}")
    assert "did not return None or float." in stepped.log
    assert any("SystemExit: 3" in text for text in stepped.tracebacks())
    assert stepped.get("bpy.context.scene.name") == "Scene"  # the session lives on


def test_bad_timer_return_on_the_real_clock_keeps_the_session(addon: Path) -> None:
    with Session(clock="real") as session:
        session.enable(addon)
        wait_for(
            lambda: "callback <function set_answer" in session.log, 20, "the timer's error line"
        )
        wait_for(lambda: not session.timers.listing(), 10, "the bad timers dropped")
        assert session.get("bpy.context.scene.name") == "Scene"
        # and a modal operator runs on the real clock between requests
        session.operator("modalprobe.count", invoke=True, until=2)
        assert session.wait_modal("modalprobe.count", timeout=10).result == {"FINISHED"}


def test_undeclared_preference_names_the_declared_ones(stepped: Session) -> None:
    with pytest.raises(blender.UnknownDataPath) as raised:
        stepped.preferences("modalprobe", verbose=True)
    message = str(raised.value)
    assert message.startswith(
        "add-on 'modalprobe' declares no RNA property 'verbose' in ModalPrefs; it declares: url"
    )
    assert "verbose is assigned the pre-2.80 way" in message and "\n" not in message
    assert stepped.preferences("modalprobe", url="http://x") == {"url": "http://x"}


def test_a_hung_request_times_out_in_one_line_and_the_session_restarts(addon: Path) -> None:
    with Session(clock="stepped", timeout=60) as session:
        module = session.enable(addon)
        session.preferences(module, url="http://127.0.0.1:9")
        with pytest.raises(blender.RequestTimeout) as raised:
            session.operator("modalprobe.hang", timeout=2)
        message = str(raised.value)
        assert message.startswith("operator modalprobe.hang did not answer within 2 s")
        assert "the add-on was in execute() at modalprobe/__init__.py:" in message
        assert "waiting for a backend that never answers" in message
        assert message.endswith("the session was restarted (see the log)")
        assert "\n" not in message
        # the next call is served by a fresh process with the add-on and its preferences back
        assert session.get(f"bpy.context.preferences.addons['{module}'].preferences.url") == (
            "http://127.0.0.1:9"
        )
        assert session.operator("modalprobe.count", invoke=True).result == {"RUNNING_MODAL"}
