"""Settings of the trainer API and workers (environment variables prefixed TRAINER_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tensorkart_core.settings import CommonSettings


class TrainerSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="TRAINER_", extra="ignore")

    host: str = "0.0.0.0"
    port: int = Field(8000, ge=0, le=65535)
    queue: str = Field("tensorkart-training", min_length=1, description="RQ queue name")
    eval_max_seconds_per_lap: float = Field(
        180.0, gt=0, le=3600, description="closed-loop evaluation: simulated seconds a lap may take before it ends"
    )
    heartbeat_interval_s: float = Field(2.0, gt=0, description="how often a running job refreshes its heartbeat")
    heartbeat_timeout_s: float = Field(20.0, gt=0, description="a running job without a heartbeat this long failed")
    sweep_interval_s: float = Field(5.0, gt=0, description="how often the API looks for jobs whose worker died")
    job_ttl_days: float = Field(90.0, gt=0, description="how long finished/failed job records are kept in Redis")
    job_timeout_s: int = Field(7 * 24 * 3600, gt=0, description="RQ's hard limit on one training job")
    work_dir: Path | None = Field(None, description="checkpoints and caches (default $TENSORKART_DATA/trainer)")

    @property
    def work_root(self) -> Path:
        return self.work_dir or (self.data_root / "trainer")
