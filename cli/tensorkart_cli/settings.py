"""The command line's configuration: the environment variables `tensorkart` reads, in one
pydantic-settings class (the services' own settings live in their packages).

An empty variable counts as unset. `cli_settings()` loads them afresh on each call (a test or a
script may change the environment between commands); an invalid value is one error line naming
the variable (exit status 2).
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import SettingsConfigDict

from tensorkart_cli.errors import CliError
from tensorkart_core.settings import CommonSettings, describe_error


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class CliSettings(CommonSettings):
    """TENSORKART_DATA, REDIS_URL, TENSORKART_TOKEN (CommonSettings) and where the stack answers."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    recorder_addr: str = Field("127.0.0.1:50051", validation_alias=_env("RECORDER_ADDR"))
    inference_addr: str = Field("127.0.0.1:50052", validation_alias=_env("INFERENCE_ADDR"))
    controller_addr: str = Field("127.0.0.1:50053", validation_alias=_env("CONTROLLER_ADDR"))
    controller_input_bot_url: str = Field("http://127.0.0.1:8082", validation_alias=_env("CONTROLLER_INPUT_BOT_URL"))
    trainer_url: str = Field("http://127.0.0.1:8000", validation_alias=_env("TRAINER_URL"))
    emulator_addr: str = Field("127.0.0.1:50056", validation_alias=_env("EMULATOR_ADDR"))
    display: str = Field("", validation_alias=_env("DISPLAY"))


class StackPorts(CliSettings):
    """`tensorkart up`'s ports (CONTRACT.md defaults; 0 = the service picks one and reports it)."""

    recorder_port: int = Field(50051, ge=0, le=65535)
    inference_port: int = Field(50052, ge=0, le=65535)
    controller_port: int = Field(50053, ge=0, le=65535)
    controller_http_port: int = Field(8082, ge=0, le=65535)
    trainer_port: int = Field(8000, ge=0, le=65535)
    recorder_metrics_port: int = Field(9051, ge=0, le=65535)
    inference_metrics_port: int = Field(9052, ge=0, le=65535)
    controller_metrics_port: int = Field(9053, ge=0, le=65535)


S = TypeVar("S", bound=CliSettings)


def cli_settings(cls: type[S] = CliSettings) -> S:  # type: ignore[assignment]
    """The settings from the environment now; CliError (status 2) naming a bad variable."""
    try:
        return cls()
    except ValidationError as error:
        first = describe_error(cls, error).splitlines()[0]
        raise CliError(first, "fix or unset that variable", status=2) from None
