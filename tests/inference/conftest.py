"""Fixtures for inference tests: a bank of small model versions and inference servers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import any_port_env
from tests.inference.modelbank import build_bank


@pytest.fixture(scope="session")
def model_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per session, shared with tests/play (same folder under the session's temp root)."""
    root = tmp_path_factory.getbasetemp() / "model-bank"
    if not (root / "models" / "done").exists():
        build_bank(root)
        (root / "models" / "done").write_text("")
    return root


@pytest.fixture
def start_inference(start_service, data_root: Path, redis_url: str) -> Callable[..., tuple[str, int]]:
    """start_inference(**env) -> (grpc address, metrics port) of a real inference server process."""

    def start(**env: str) -> tuple[str, int]:
        base = {
            "TENSORKART_DATA": str(data_root),
            "REDIS_URL": redis_url,
            "INFERENCE_HOST": "127.0.0.1",
            **any_port_env("INFERENCE"),
            "INFERENCE_POLL_SECONDS": "1",
        }
        service = start_service("tensorkart_inference", {**base, **env}, grpc=True, ports=("metrics",))
        return service.address("grpc"), service.port("metrics")

    return start
