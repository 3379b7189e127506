"""Helpers shared by bench_play and bench_hot_swap: a PilotNet model version on a temporary
data root, and inference / controller processes on free loopback ports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tensorkart_core.health import wait_until_serving
from tensorkart_core.preprocess import DEFAULT_SPEC

OUTPUTS = ["x", "y", "a", "b", "rb"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_versions(versions: list[str], root: Path | None = None) -> Path:
    """PilotNet versions (random weights, seeded) exported like the trainer does; returns the data root."""
    import keras

    from tensorkart_trainer.export import save_model_version
    from tensorkart_trainer.pilotnet import build_pilotnet

    root = root or Path(tempfile.mkdtemp(prefix="tensorkart-bench-"))
    for seed, version in enumerate(versions, start=1):
        keras.utils.set_random_seed(seed)
        save_model_version(build_pilotnet(len(OUTPUTS)), root, version, DEFAULT_SPEC, OUTPUTS, {"job": "bench"})
    return root


def served_tflite(data_root: Path, version: str) -> Path:
    """The LiteRT file the inference server serves for `version` by default
    (INFERENCE_PRECISION=int8): the loader's own choice, models.litert_file."""
    from tensorkart_inference.models import litert_file

    folder = data_root / "models" / version
    return litert_file(folder, json.loads((folder / "model.json").read_text()), "int8")[0]


def game_frame(seed: int = 0) -> np.ndarray:
    """A 640x480 RGB picture with structure (gradients + noise)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:480, 0:640]
    base = np.stack([xs * 255 // 640, ys * 255 // 480, (xs + ys) % 256], axis=-1)
    return np.clip(base + rng.integers(-30, 30, base.shape), 0, 255).astype(np.uint8)


@dataclass
class Process:
    name: str
    process: subprocess.Popen
    ports: dict[str, int] = field(default_factory=dict)

    def address(self, key: str = "grpc") -> str:
        return f"127.0.0.1:{self.ports[key]}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(module: str, env: dict[str, str], ports: dict[str, int]) -> Process:
    process = subprocess.Popen(
        [sys.executable, "-m", module],
        env={**os.environ, "PYTHONUNBUFFERED": "1", "TENSORKART_LOG_LEVEL": "WARNING", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    started = Process(module, process, ports)
    address = started.address()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{module} exited with {process.returncode}")
        if wait_until_serving(address, timeout=0.5):
            return started
    started.stop()
    raise RuntimeError(f"{module} did not start")


def start_inference(data_root: Path, **env: str) -> Process:
    ports = {"grpc": free_port(), "metrics": free_port()}
    base = {
        "TENSORKART_DATA": str(data_root),
        "INFERENCE_HOST": "127.0.0.1",
        "INFERENCE_PORT": str(ports["grpc"]),
        "INFERENCE_METRICS_PORT": str(ports["metrics"]),
    }
    return start("tensorkart_inference", {**base, **env}, ports)


def start_controller(**env: str) -> Process:
    ports = {"grpc": free_port(), "http": free_port(), "metrics": free_port()}
    base = {
        "CONTROLLER_HOST": "127.0.0.1",
        "CONTROLLER_HTTP_HOST": "127.0.0.1",
        "CONTROLLER_PORT": str(ports["grpc"]),
        "CONTROLLER_HTTP_PORT": str(ports["http"]),
        "CONTROLLER_METRICS_PORT": str(ports["metrics"]),
    }
    return start("tensorkart_controller", {**base, **env}, ports)


def percentile_ms(samples_ns: list[int] | np.ndarray, q: float) -> float:
    return round(float(np.percentile(np.asarray(samples_ns, dtype=np.float64), q)) / 1e6, 3)
