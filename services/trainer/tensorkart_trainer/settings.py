"""Settings of the trainer API and workers (environment variables prefixed TRAINER_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tensorkart_core.settings import CommonSettings


class TrainerSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="TRAINER_", extra="ignore")

    host: str = "0.0.0.0"
    port: int = Field(8000, ge=0, le=65535)
    queue: str = Field("tensorkart-training", min_length=1, description="RQ queue name")
