"""Settings of the capture process (environment variables prefixed CAPTURE_, plus RECORDER_ADDR)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from tensorkart_core.settings import CommonSettings

DEFAULT_RECORDER_ADDR = "127.0.0.1:50051"


class CaptureSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="CAPTURE_", extra="ignore")

    recorder_addr: str = Field(DEFAULT_RECORDER_ADDR, validation_alias=AliasChoices("RECORDER_ADDR"))
    rate_hz: float = Field(30.0, ge=0.0, le=1000.0, description="capture rate for screen/replay (0 = unpaced)")
    queue_size: int = Field(90, ge=1, le=100_000, description="samples waiting for the network before drops")
    pad: str = Field("xbox", description="pad preset (xbox, dualshock, n64), JSON file, plus KEY=VALUE overrides")
    pad_index: int = Field(0, ge=0)
    region: str = Field("640x480", description="screen region: WIDTHxHEIGHT or LEFT,TOP,WIDTHxHEIGHT")
    monitor: int = Field(1, ge=0)
    metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus /metrics port while recording; 0 = any free")
    metrics_host: str = "127.0.0.1"
