"""The director under backend faults: needs the harness stack (its `faults` fixture).

Run with `harness up` and `harness blender run examples/blender_director/director --
--attach-stack -n 0` (or inside `.ci/run`); `--director-mocks` has no proxy to fault.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

pytestmark = pytest.mark.blender
STATE = "bpy.context.scene.director"


@pytest.mark.exclusive_stack
def test_comfyui_killed_then_back(blender_addon: Any, faults: Any) -> None:
    session = blender_addon.session
    session.operator("director.refresh_connections")
    session.wait_for(f"{STATE}.comfyui_status", lambda s: s == "CONNECTED", 30)
    kill = faults.kill("comfyui")
    # No operator: the add-on's own polling timer (every poll_seconds) notices.
    session.wait_for(f"{STATE}.comfyui_status", lambda s: s == "ERROR", 30)
    tree = session.panel("DIRECTOR_PT_connections")
    assert tree.find("label", text="comfyui: error")[0]["alert"] is True
    kill.clear()  # started again and healthy
    session.wait_for(f"{STATE}.comfyui_status", lambda s: s == "CONNECTED", 60)


def test_latency_on_comfyui_generation_still_succeeds(blender_addon: Any, faults: Any) -> None:
    session = blender_addon.session
    faults.latency("comfyui", 500)
    started = time.monotonic()
    session.operator("director.generate_image")
    name = session.wait_for(f"{STATE}.last_image", bool, 120)
    elapsed = time.monotonic() - started
    assert session.get(f"bpy.data.images[{name!r}].size") == [64, 64]
    assert session.get(f"{STATE}.last_error") == ""
    # Slower: the websocket handshake, POST /prompt, GET /history and GET /view answer one
    # after the other, each answer delayed 500 ms (about 0.9 s without the fault).
    assert elapsed >= 2.0, f"generation took {elapsed:.2f} s under 500 ms latency"


def test_connection_cut_gives_a_clear_error_and_nothing_hangs(
    blender_addon: Any, faults: Any
) -> None:
    session = blender_addon.session
    faults.down("comfyui")
    session.operator("director.generate_image")
    session.wait_for(f"{STATE}.jobs", lambda jobs: jobs == 0, 60)
    assert "ComfyUI" in session.get(f"{STATE}.last_error")
    assert session.get(f"{STATE}.last_image") == ""
    session.operator("director.manual_reconnect", service="comfyui")
    session.wait_for(f"{STATE}.comfyui_status", lambda s: s == "ERROR", 30)
    tree = session.panel("DIRECTOR_PT_connections")
    assert tree.find("label", icon="ERROR", alert=True)
