"""ComfyUI killed and back, with the in-process mocks (`--director-mocks`): the mock's process
is SIGKILLed and started again on the same port; the add-on's polling timer follows."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.blender
STATE = "bpy.context.scene.director"


def test_comfyui_process_killed_then_back(blender_addon: Any, restartable_comfyui: Any) -> None:
    session = blender_addon.session
    session.operator("director.refresh_connections")
    session.wait_for(f"{STATE}.comfyui_status", lambda s: s == "CONNECTED", 30)
    restartable_comfyui.kill()
    session.wait_for(f"{STATE}.comfyui_status", lambda s: s == "ERROR", 30)
    restartable_comfyui.start()
    session.wait_for(f"{STATE}.comfyui_status", lambda s: s == "CONNECTED", 30)
