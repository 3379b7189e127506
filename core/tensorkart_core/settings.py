"""Service settings from environment variables (pydantic-settings), validated at start.

Every service defines a subclass of `ServiceSettings` with its own `env_prefix`
(`RECORDER_`, `INFERENCE_`, ...) and loads it with `load_settings`, which turns a
validation failure into one readable line per bad variable and exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TypeVar

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_REDIS_URL = "redis://localhost:6379/0"


class CommonSettings(BaseSettings):
    """What every process shares: storage root, Redis, the auth token."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    data_root: Path = Field(Path("./data"), validation_alias=AliasChoices("TENSORKART_DATA"))
    redis_url: str = Field(DEFAULT_REDIS_URL, validation_alias=AliasChoices("REDIS_URL"))
    token: str | None = Field(None, validation_alias=AliasChoices("TENSORKART_TOKEN"))
    log_level: str = Field("INFO", validation_alias=AliasChoices("TENSORKART_LOG_LEVEL"))


class ServiceSettings(CommonSettings):
    """A gRPC server's settings; subclasses set `env_prefix` and the default ports."""

    host: str = "0.0.0.0"
    port: int = Field(0, ge=0, le=65535)
    metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus /metrics HTTP port; 0 = pick a free one")
    max_message_bytes: int = Field(8 * 1024 * 1024, ge=1024, description="largest gRPC message accepted")
    grace_seconds: float = Field(5.0, ge=0, description="how long in-flight calls may finish on shutdown")
    max_connection_age_s: float = Field(
        0.0,
        ge=0,
        description="recycle each client connection after this long (GOAWAY; its streams get 30 s more, then the "
        "client re-opens them on a fresh connection, re-resolving the name: how edges find new replicas); 0 = never",
    )
    tls_cert: Path | None = None
    tls_key: Path | None = None


S = TypeVar("S", bound=BaseSettings)


def env_name(cls: type[BaseSettings], field_name: str) -> str:
    """The environment variable that sets `field_name` of `cls`."""
    field = cls.model_fields.get(field_name)
    alias = getattr(field, "validation_alias", None) if field else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    if isinstance(alias, str):
        return alias
    return f"{cls.model_config.get('env_prefix', '')}{field_name}".upper()


def describe_error(cls: type[BaseSettings], error: ValidationError) -> str:
    """One line per invalid variable: name, value received, what is wrong."""
    lines = []
    by_alias = {env_name(cls, name).lower(): name for name in cls.model_fields}
    for item in error.errors():
        key = str(item["loc"][0]) if item["loc"] else "?"
        name = env_name(cls, by_alias.get(key.lower(), key))
        lines.append(f"invalid environment variable {name}={item.get('input')!r}: {item['msg']}")
    return "\n".join(lines)


def load_settings(cls: type[S]) -> S:
    """Load settings from the environment or exit(2) with a readable message."""
    try:
        return cls()
    except ValidationError as error:
        print(describe_error(cls, error), file=sys.stderr)
        raise SystemExit(2) from None
