"""Settings of the controller service (environment variables prefixed CONTROLLER_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tensorkart_core.settings import ServiceSettings


class ControllerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONTROLLER_", extra="ignore")

    port: int = Field(50053, ge=0, le=65535)
    metrics_port: int = Field(9053, ge=0, le=65535)
