"""Settings: env parsing, validation, run-time updates, which clients a change touches."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from studio._settings import (
    ConfigError,
    StudioSettings,
    apply_update,
    changed_backends,
)


def test_env_vars_configure_every_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "STUDIO_REDIS_URL": "redis://127.0.0.1:7000/3",
        "STUDIO_CHROMA_URL": "http://127.0.0.1:7001/",
        "STUDIO_LITELLM_URL": "http://127.0.0.1:7002",
        "STUDIO_LITELLM_KEY": "sk-x",
        "STUDIO_COMFYUI_URL": "http://127.0.0.1:7003",
        "STUDIO_WAN2GP_URL": "http://127.0.0.1:7004",
        "STUDIO_CABLECAST_URL": "http://127.0.0.1:7005",
        "STUDIO_CABLECAST_USER": "u",
        "STUDIO_CABLECAST_PASSWORD": "p",
        "STUDIO_NAMESPACE": "gw1",
        "STUDIO_CHROMA_TENANT": "tenant-a",
        "STUDIO_CHROMA_DATABASE": "db-a",
        "STUDIO_REDIS_PREFIX": "pfx",
        "STUDIO_WORKERS": "5",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    s = StudioSettings()
    assert s.redis_url == "redis://127.0.0.1:7000/3"
    assert s.chroma_url == "http://127.0.0.1:7001"  # trailing slash dropped
    assert (s.litellm_key, s.cablecast_user, s.cablecast_password) == ("sk-x", "u", "p")
    assert (s.chroma_tenant, s.chroma_database, s.redis_prefix) == ("tenant-a", "db-a", "pfx")
    assert s.workers == 5
    assert s.mock_headers() == {"X-Harness-Namespace": "gw1"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STUDIO_REDIS_URL", "http://127.0.0.1:6379"),
        ("STUDIO_COMFYUI_URL", "127.0.0.1:8188"),
        ("STUDIO_REDIS_PREFIX", "bad prefix"),
        ("STUDIO_RETRY_ATTEMPTS", "0"),
        ("STUDIO_NAMESPACE_HEADER", "X Bad"),
    ],
)
def test_invalid_env_values_are_rejected(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        StudioSettings()


def test_public_view_masks_secrets() -> None:
    view = StudioSettings(litellm_key="sk-secret", cablecast_password="pw").public()
    assert view["litellm_key"] == "***" and view["cablecast_password"] == "***"
    assert "sk-secret" not in str(view) and view["redis_prefix"] == "studio"


def test_apply_update_validates_and_keeps_the_rest() -> None:
    base = StudioSettings(redis_prefix="a")
    new = apply_update(base, {"comfyui_url": "http://127.0.0.1:9/"})
    assert new.comfyui_url == "http://127.0.0.1:9" and new.redis_prefix == "a"
    assert base.comfyui_url != new.comfyui_url  # the original is untouched
    with pytest.raises(ConfigError, match="unknown setting"):
        apply_update(base, {"nope": 1})
    with pytest.raises(ConfigError, match="wan2gp_url"):
        apply_update(base, {"wan2gp_url": "ftp://x"})


def test_changed_backends_names_only_affected_clients() -> None:
    base = StudioSettings()
    assert changed_backends(base, apply_update(base, {"redis_url": "redis://h:1/0"})) == {"redis"}
    assert changed_backends(base, apply_update(base, {"chroma_tenant": "other"})) == {"chromadb"}
    assert changed_backends(base, apply_update(base, {"namespace": "w2"})) == {
        "comfyui",
        "wan2gp",
        "cablecast",
    }
    assert changed_backends(base, apply_update(base, {"keyframes": 3})) == set()
