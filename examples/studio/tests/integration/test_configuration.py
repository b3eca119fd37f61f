"""Configuration change: a backend address changed at run time takes effect, and so does the fix."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import Studio

pytestmark = pytest.mark.config


@pytest.mark.faults
def test_wrong_comfyui_address_at_run_time_then_corrected(studio_intake: Studio) -> None:
    good = studio_intake.request("GET", "/config")["comfyui_url"]
    changed = httpx.put(f"{studio_intake.url}/config", json={"comfyui_url": "http://127.0.0.1:9"})
    assert changed.status_code == 200 and changed.json()["reconnected"] == ["comfyui"]
    try:
        code, states = studio_intake.health()
        assert code == 503 and states["comfyui"] == "error"
        assert {name for name, state in states.items() if state == "error"} == {"comfyui"}
    finally:
        httpx.put(f"{studio_intake.url}/config", json={"comfyui_url": good})
    assert studio_intake.healthy()


@pytest.mark.faults
def test_invalid_configuration_is_refused_and_changes_nothing(studio_intake: Studio) -> None:
    before = studio_intake.request("GET", "/config")
    refused = httpx.put(f"{studio_intake.url}/config", json={"comfyui_url": "ftp://x"})
    assert refused.status_code == 422 and "comfyui_url" in refused.json()["error"]["message"]
    assert studio_intake.request("GET", "/config") == before
