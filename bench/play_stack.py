"""Helpers shared by bench_play and bench_hot_swap: a PilotNet model version on a temporary
data root, and inference / controller processes on loopback ports they pick (and report)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from tensorkart_core.launcher import Child, Launcher, ServiceSpec, grpc_ready, python_module
from tensorkart_core.preprocess import DEFAULT_SPEC

OUTPUTS = ["x", "y", "a", "b", "rb"]


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


Process = Child  # a service process started by the one launcher; .address("grpc"), .port("http"), .stop()


def start(module: str, env: dict[str, str], ports: tuple[str, ...] = ("grpc", "metrics")) -> Process:
    """`python -m module` with `env`, its output discarded (log level WARNING), once its gRPC
    health says SERVING on the port it reported."""
    spec = ServiceSpec(module, python_module(module), {"TENSORKART_LOG_LEVEL": "WARNING", **env}, ports, grpc_ready())
    return Launcher().start_ready(spec, timeout=120, log_path=Path(os.devnull))


def start_inference(data_root: Path, **env: str) -> Process:
    base = {
        "TENSORKART_DATA": str(data_root),
        "INFERENCE_HOST": "127.0.0.1",
        "INFERENCE_PORT": "0",
        "INFERENCE_METRICS_PORT": "0",
    }
    return start("tensorkart_inference", {**base, **env})


def start_controller(**env: str) -> Process:
    base = {
        "CONTROLLER_HOST": "127.0.0.1",
        "CONTROLLER_HTTP_HOST": "127.0.0.1",
        "CONTROLLER_PORT": "0",
        "CONTROLLER_HTTP_PORT": "0",
        "CONTROLLER_METRICS_PORT": "0",
    }
    return start("tensorkart_controller", {**base, **env}, ("grpc", "http", "metrics"))


def percentile_ms(samples_ns: list[int] | np.ndarray, q: float) -> float:
    return round(float(np.percentile(np.asarray(samples_ns, dtype=np.float64), q)) / 1e6, 3)
