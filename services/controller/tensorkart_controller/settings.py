"""Settings of the controller service (environment variables prefixed CONTROLLER_)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tensorkart_core.settings import ServiceSettings

Mode = Literal["free_run", "lock_step"]


class ControllerSettings(ServiceSettings):
    """gRPC tensorkart.v1.Controller on CONTROLLER_PORT, input-bot HTTP on CONTROLLER_HTTP_PORT."""

    model_config = SettingsConfigDict(env_prefix="CONTROLLER_", extra="ignore")

    port: int = Field(50053, ge=0, le=65535)
    metrics_port: int = Field(9053, ge=0, le=65535)
    http_port: int = Field(8082, ge=0, le=65535, description="mupen64plus-input-bot HTTP port; 0 = pick a free one")
    http_host: str = Field("0.0.0.0", description="address the input-bot HTTP server binds")
    http_backlog: int = Field(1024, ge=16, description="listen backlog of the input-bot socket")
    mode: Mode = Field("free_run", description="free_run: answer polls at once; lock_step: wait for fresh steering")
    lock_step_timeout_ms: int = Field(500, ge=1, le=60_000, description="how long a lock-step poll waits")
    safety_timeout_ms: int = Field(200, ge=1, le=60_000, description="no fresh steering this long -> neutral, A off")
    gain: float = Field(1.0, gt=0, le=10, description="stick gain applied before scaling to N64 units")
    deadzone: float = Field(0.0, ge=0, lt=1, description="|x| or |y| at or below this (normalised) -> 0")
    hold_a: bool = Field(True, description="hold A while model steering is fresh (else use the steering's a)")
    shadow: bool = Field(False, description="model steering is only compared, human steering drives")
    agreement_window: int = Field(300, ge=1, le=100_000, description="frame pairs in the shadow agreement window")
