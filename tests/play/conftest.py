"""Fixtures for play tests: model versions, and inference / controller / recorder processes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import any_port_env
from tests.inference.conftest import model_bank, start_inference  # noqa: F401 - shared fixtures


@dataclass
class Controller:
    address: str
    http_port: int
    metrics_port: int


@pytest.fixture
def start_controller(start_service) -> Callable[..., Controller]:
    """start_controller(SAFETY_TIMEOUT_MS="200", ...) -> a real controller process (CONTROLLER_<key>)."""

    def start(**env: str) -> Controller:
        base = {
            "CONTROLLER_HOST": "127.0.0.1",
            "CONTROLLER_HTTP_HOST": "127.0.0.1",
            **any_port_env("CONTROLLER", "HTTP_PORT"),
        }
        settings = {f"CONTROLLER_{key.upper()}": value for key, value in env.items()}
        service = start_service("tensorkart_controller", {**base, **settings}, grpc=True, ports=("http", "metrics"))
        return Controller(service.address("grpc"), service.port("http"), service.port("metrics"))

    return start


@pytest.fixture
def start_recorder(start_service, data_root: Path) -> Callable[[], str]:
    def start() -> str:
        env = {"TENSORKART_DATA": str(data_root), "RECORDER_HOST": "127.0.0.1", **any_port_env("RECORDER")}
        return start_service("tensorkart_recorder", env, grpc=True).address("grpc")

    return start
