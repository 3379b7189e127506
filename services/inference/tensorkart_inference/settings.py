"""Settings of the inference service (environment variables prefixed INFERENCE_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tensorkart_core.settings import ServiceSettings


class InferenceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INFERENCE_", extra="ignore")

    port: int = Field(50052, ge=0, le=65535)
    metrics_port: int = Field(9052, ge=0, le=65535)
