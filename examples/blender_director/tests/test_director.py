"""The director add-on's UI flows, through the harness's public fixtures only."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.blender
PREFS = "bpy.context.preferences.addons['director'].preferences"
STATE = "bpy.context.scene.director"


def _wait_status(session: Any, service: str, status: str, timeout: float = 30.0) -> None:
    session.wait_for(f"{STATE}.{service}_status", lambda value: value == status, timeout)


def test_refresh_connects_and_the_panel_shows_it(
    blender_addon: Any, live_services: tuple[str, ...]
) -> None:
    session = blender_addon.session
    result = session.operator("director.refresh_connections")
    assert result.result == {"FINISHED"}
    assert result.messages("INFO") == ["checking ComfyUI, LiteLLM and Wan2GP"]
    for service in live_services:
        _wait_status(session, service, "CONNECTED")
    tree = session.panel("DIRECTOR_PT_connections")
    for service in live_services:
        [label] = tree.find("label", text=f"{service}: connected")
        assert label["icon"] == "CHECKMARK" and label["alert"] is False
        url = tree.prop(f"{service}_url")
        assert url["value"] == blender_addon.preferences[f"{service}_url"]
    reconnect = [
        op["properties"] for op in tree.find("operator", idname="director.manual_reconnect")
    ]
    assert reconnect == [{"service": "comfyui"}, {"service": "litellm"}, {"service": "wan2gp"}]


def test_wrong_port_then_corrected(blender_addon: Any, unused_port: int) -> None:
    session = blender_addon.session
    good = blender_addon.preferences["comfyui_url"]
    session.set(f"{PREFS}.comfyui_url", f"http://127.0.0.1:{unused_port}")
    session.operator("director.manual_reconnect", service="comfyui")
    _wait_status(session, "comfyui", "ERROR")
    tree = session.panel("DIRECTOR_PT_connections")
    [label] = tree.find("label", text="comfyui: error")
    assert label["alert"] is True and label["icon"] == "ERROR"
    assert tree.prop("comfyui_url")["value"] == f"http://127.0.0.1:{unused_port}"
    assert any("refused" in text.lower() for text in tree.labels())
    session.set(f"{PREFS}.comfyui_url", good)
    session.operator("director.manual_reconnect", service="comfyui")
    _wait_status(session, "comfyui", "CONNECTED")
    assert session.panel("DIRECTOR_PT_connections").find("label", text="comfyui: connected")


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _generated(session: Any, field: str, timeout: float = 120.0) -> str:
    return str(session.wait_for(f"{STATE}.{field}", bool, timeout))


def test_generate_image_into_bpy_data_images(blender_addon: Any) -> None:
    session = blender_addon.session
    assert session.operator("director.generate_image").result == {"FINISHED"}
    name = _generated(session, "last_image")
    assert session.get(f"bpy.data.images[{name!r}].size") == [64, 64]
    assert session.get(f"bpy.data.images[{name!r}].packed_file") is not None
    assert session.get(f"{STATE}.last_error") == ""


def test_generate_clip_into_the_sequencer(blender_addon: Any) -> None:
    session = blender_addon.session
    session.operator("director.generate_clip")
    name = _generated(session, "last_clip")
    strips = "bpy.context.scene.sequence_editor.strips"
    assert session.get(f"{strips}[{name!r}].type") == "MOVIE"
    assert session.get(f"{strips}[{name!r}].frame_final_duration") > 0


def test_all_three_generations_at_once(blender_addon: Any, live_services: tuple[str, ...]) -> None:
    session = blender_addon.session
    session.timers.clock("stepped")  # hold the results back until all three are asked for
    for idname in ("generate_image", "generate_script", "generate_clip"):
        session.operator(f"director.{idname}")
    assert session.get(f"{STATE}.jobs") == 3
    tree = session.panel("DIRECTOR_PT_connections")
    assert tree.prop("prompt")["enabled"] is False  # the panel locks generation while busy
    session.timers.clock("real")
    session.wait_for(f"{STATE}.jobs", lambda jobs: jobs == 0, 180)
    assert session.get(f"{STATE}.last_image") and session.get(f"{STATE}.last_clip")
    if "litellm" in live_services:
        text = session.get(f"{STATE}.last_text")
        assert session.get(f"bpy.data.texts[{text!r}].lines[0].body").strip()
        assert session.get(f"{STATE}.last_error") == ""
    else:  # no LiteLLM here: the script job fails with a clear, one-line error
        assert "Connection refused" in session.get(f"{STATE}.last_error")
