"""Settings of the simulator service (environment variables prefixed SIMULATOR_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tensorkart_core.settings import ServiceSettings


class SimulatorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SIMULATOR_", extra="ignore")

    port: int = Field(50054, ge=0, le=65535)
    metrics_port: int = Field(9054, ge=0, le=65535)
