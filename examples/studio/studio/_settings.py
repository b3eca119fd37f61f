"""Configuration: env vars `STUDIO_*` (pydantic-settings), masked view, run-time updates."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_FIELDS = frozenset({"litellm_key", "cablecast_password"})

# Which backend client each field configures; a change rebuilds only those clients.
BACKEND_FIELDS: dict[str, frozenset[str]] = {
    "redis": frozenset({"redis_url"}),
    "chromadb": frozenset({"chroma_url", "chroma_tenant", "chroma_database"}),
    "litellm": frozenset({"litellm_url", "litellm_key"}),
    "comfyui": frozenset({"comfyui_url", "namespace", "namespace_header"}),
    "wan2gp": frozenset({"wan2gp_url", "namespace", "namespace_header"}),
    "cablecast": frozenset(
        {"cablecast_url", "cablecast_user", "cablecast_password", "namespace", "namespace_header"}
    ),
}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_HEADER = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class ConfigError(ValueError):
    """A configuration update was rejected (unknown field or invalid value)."""


class StudioSettings(BaseSettings):
    """Every knob of the studio; backend addresses can change at run time (PUT /config)."""

    model_config = SettingsConfigDict(env_prefix="STUDIO_", extra="forbid", validate_default=True)

    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "studio"
    chroma_url: str = "http://127.0.0.1:8000"
    chroma_tenant: str = "default_tenant"
    chroma_database: str = "default_database"
    litellm_url: str = "http://127.0.0.1:4000"
    litellm_key: str = "sk-harness-master"
    chat_model: str = "mock-gpt"
    embed_model: str = "mock-embed"
    comfyui_url: str = "http://127.0.0.1:8188"
    wan2gp_url: str = "http://127.0.0.1:7860"
    cablecast_url: str = "http://127.0.0.1:8080"
    cablecast_user: str = "admin"
    cablecast_password: str = "admin"
    namespace: str = "default"
    namespace_header: str = "X-Harness-Namespace"
    media_dir: str = ""
    workers: int = Field(default=2, ge=0, le=32)
    call_timeout: float = Field(default=10.0, gt=0)
    health_timeout: float = Field(default=2.0, gt=0)
    retry_attempts: int = Field(default=4, ge=1, le=10)
    retry_backoff: float = Field(default=0.2, ge=0)
    retry_backoff_max: float = Field(default=2.0, ge=0)
    outage_timeout: float = Field(default=120.0, ge=0)
    outage_retry_interval: float = Field(default=1.0, gt=0)
    render_timeout: float = Field(default=180.0, gt=0)
    keyframes: int = Field(default=2, ge=1, le=8)
    keyframe_steps: int = Field(default=4, ge=1, le=100)
    keyframe_size: int = Field(default=256, ge=64, le=2048)
    clip_frames: int = Field(default=17, ge=1, le=481)
    clip_steps: int = Field(default=3, ge=1, le=100)
    clip_resolution: str = "832x480"
    vod_poll_interval: float = Field(default=0.25, gt=0)
    lease_seconds: float = Field(default=30.0, gt=0)
    similar_limit: int = Field(default=3, ge=1, le=50)

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("chroma_url", "litellm_url", "comfyui_url", "wan2gp_url", "cablecast_url")
    @classmethod
    def _http_scheme(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("redis_prefix", "namespace", "chroma_tenant", "chroma_database")
    @classmethod
    def _simple_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be 1-63 characters of letters, digits, '_', '.', '-'")
        return value

    @field_validator("namespace_header")
    @classmethod
    def _header_name(cls, value: str) -> str:
        if not _HEADER.match(value):
            raise ValueError("must be a valid HTTP header name")
        return value

    @field_validator("clip_resolution")
    @classmethod
    def _resolution(cls, value: str) -> str:
        if not re.fullmatch(r"\d{2,4}x\d{2,4}", value):
            raise ValueError("must look like 832x480")
        return value

    def public(self) -> dict[str, Any]:
        """All fields, secrets masked (for GET /config)."""
        data = self.model_dump()
        for name in SECRET_FIELDS:
            data[name] = "***" if data[name] else ""
        return data

    def mock_headers(self) -> dict[str, str]:
        """Headers sent on every call to a mocked backend (the namespace header)."""
        return {self.namespace_header: self.namespace}


def apply_update(current: StudioSettings, changes: dict[str, Any]) -> StudioSettings:
    """A validated copy of `current` with `changes` applied (ConfigError on bad input)."""
    unknown = sorted(set(changes) - set(StudioSettings.model_fields))
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    merged = {**current.model_dump(), **changes}
    try:
        return StudioSettings.model_validate(merged)
    except ValidationError as exc:
        parts = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("; ".join(parts)) from None


def changed_backends(old: StudioSettings, new: StudioSettings) -> set[str]:
    """Names of the backends whose client configuration differs between `old` and `new`."""
    diff = {
        name for name in StudioSettings.model_fields if getattr(old, name) != getattr(new, name)
    }
    return {backend for backend, fields in BACKEND_FIELDS.items() if fields & diff}
