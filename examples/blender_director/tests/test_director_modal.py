"""The director's modal operator on an event timer and its start-up timer with a bad return
value, as real Blender runs them (the harness drives Blender's main loop headless)."""

from __future__ import annotations

from typing import Any

import pytest

from harness import wait_for

pytestmark = pytest.mark.blender
STATE = "bpy.context.scene.director"
SERVICES = ("comfyui", "litellm", "wan2gp")


def test_watch_services_runs_modal_until_every_service_answered(
    blender_addon: Any, live_services: tuple[str, ...]
) -> None:
    session = blender_addon.session
    started = session.operator("director.watch_services", invoke=True)
    assert started.result == {"RUNNING_MODAL"}
    assert started.messages("INFO") == ["watching ComfyUI, LiteLLM and Wan2GP"]
    ended = session.wait_modal("director.watch_services", timeout=30)
    assert ended.result == {"FINISHED"} and ended.error is None and ended.events >= 1
    assert ended.messages("INFO")[-1] == f"connected: {', '.join(live_services)}"
    down = [service for service in SERVICES if service not in live_services]
    assert ended.messages("WARNING") == ([f"not connected: {', '.join(down)}"] if down else [])
    assert session.modals() == []
    assert "event" not in [timer["kind"] for timer in session.timers.listing()]
    tree = session.panel("DIRECTOR_PT_connections")
    for service in live_services:
        assert tree.find("label", text=f"{service}: connected")
    assert tree.find("operator", idname="director.watch_services")


def _events(session: Any) -> int:
    """TIMER events the watch operator got so far (running, or ended)."""
    running = session.modals()
    if running:
        return int(running[0]["events"])
    return session.wait_modal("director.watch_services", timeout=0).events


def test_watch_services_gets_timer_events_in_due_order_on_the_stepped_clock(
    blender_addon: Any,
) -> None:
    session = blender_addon.session
    session.timers.clock("stepped")
    session.operator("director.watch_services", invoke=True)
    [watch] = session.modals()
    assert watch["idname"] == "director.watch_services" and watch["events"] == 0
    session.timers.step(0.09)
    assert _events(session) == 0  # its timer ticks every 0.1 s
    session.timers.step(0.01)
    assert _events(session) == 1  # (it may end on it, when the checks have answered)
    session.timers.clock("real")  # the checks run on worker threads: give them real time
    assert session.wait_modal("director.watch_services", 30).result == {"FINISHED"}


def test_startup_timer_returning_a_set_is_reported_and_dropped(blender_addon: Any) -> None:
    session = blender_addon.session
    session.wait_for(f"{STATE}.announcements", lambda count: count == 1, 30)
    wait_for(
        lambda: "Error: 'bpy.app.timers' callback <function announce at 0x" in session.log,
        10,
        "Blender's line for the bad return value",
    )
    assert "did not return None or float." in session.log
    assert "announce" not in [timer["name"] for timer in session.timers.listing()]
    session.timers.clock("stepped")
    session.timers.step(5.0)  # dropped: it never runs again, and the session is alive
    assert session.get(f"{STATE}.announcements") == 1
    assert session.tracebacks() == []
