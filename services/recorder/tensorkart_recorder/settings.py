"""Settings of the recorder service (environment variables prefixed RECORDER_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tensorkart_core.settings import ServiceSettings


class RecorderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RECORDER_", extra="ignore")

    port: int = Field(50051, ge=0, le=65535)
    metrics_port: int = Field(9051, ge=0, le=65535)
