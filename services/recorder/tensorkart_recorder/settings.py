"""Settings of the recorder service (environment variables prefixed RECORDER_)."""

from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tensorkart_core.settings import ServiceSettings


class RecorderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RECORDER_", extra="ignore")

    port: int = Field(50051, ge=0, le=65535)
    metrics_port: int = Field(9051, ge=0, le=65535)
    encode_threads: int = Field(
        max(2, os.cpu_count() or 2), ge=1, le=64, description="PNG encoder threads shared by all sessions"
    )
    receive_threads: int = Field(
        8,
        ge=1,
        le=256,
        description="threads that decode frames and hand them to the writer (open streams cost none)",
    )
    max_streams: int = Field(
        256,
        ge=1,
        le=100_000,
        description="Record streams open at once; one past it is refused with RESOURCE_EXHAUSTED (back off, retry)",
    )
    compress_level: int = Field(1, ge=0, le=9, description="PNG zlib level: 1 is fast and still lossless")
    max_pending: int = Field(
        24,
        ge=1,
        le=4096,
        description="frames of one stream being encoded before receiving pauses (bounds what a kill -9 loses)",
    )
    fsync: bool = Field(False, description="fsync each image and data.csv (survives power loss, not only a kill)")
