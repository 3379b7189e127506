"""Fixtures for play tests: model versions, and inference / controller / recorder processes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import free_port
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
        port, http_port, metrics_port = free_port(), free_port(), free_port()
        base = {
            "CONTROLLER_HOST": "127.0.0.1",
            "CONTROLLER_HTTP_HOST": "127.0.0.1",
            "CONTROLLER_PORT": str(port),
            "CONTROLLER_HTTP_PORT": str(http_port),
            "CONTROLLER_METRICS_PORT": str(metrics_port),
        }
        address = f"127.0.0.1:{port}"
        settings = {f"CONTROLLER_{key.upper()}": value for key, value in env.items()}
        start_service("tensorkart_controller", {**base, **settings}, grpc_address=address)
        return Controller(address, http_port, metrics_port)

    return start


@pytest.fixture
def start_recorder(start_service, data_root: Path) -> Callable[[], str]:
    def start() -> str:
        port = free_port()
        env = {
            "TENSORKART_DATA": str(data_root),
            "RECORDER_HOST": "127.0.0.1",
            "RECORDER_PORT": str(port),
            "RECORDER_METRICS_PORT": str(free_port()),
        }
        address = f"127.0.0.1:{port}"
        start_service("tensorkart_recorder", env, grpc_address=address)
        return address

    return start
