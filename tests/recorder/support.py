"""Shared by the record-path tests: a real recorder process, frames with known pixels, a tiny dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tensorkart_core.images import encode_frame
from tensorkart_core.proto.v1 import types_pb2
from tests.helpers import ServiceProcess


@dataclass
class Recorder:
    process: ServiceProcess
    address: str
    port: int
    data_root: Path


def start_recorder(start_service, data_root: Path, port: int | None = None, **env: str) -> Recorder:
    """A recorder on `port` (a restart on the port it had), else on the port it picks."""
    process = start_service(
        "tensorkart_recorder",
        {
            "TENSORKART_DATA": str(data_root),
            "RECORDER_HOST": "127.0.0.1",
            "RECORDER_PORT": str(port or 0),
            "RECORDER_METRICS_PORT": "0",
            "RECORDER_GRACE_SECONDS": "2",
            **env,
        },
        grpc=True,
    )
    return Recorder(process, process.address("grpc"), process.port("grpc"), data_root)


def picture(index: int, width: int = 640, height: int = 480) -> np.ndarray:
    """A frame whose every pixel depends on its index (and that PNG cannot fake by accident)."""
    rng = np.random.default_rng(index)
    base = rng.integers(0, 256, size=(height // 8, width // 8, 3), dtype=np.uint8)
    rgb = np.kron(base, np.ones((8, 8, 1), dtype=np.uint8))
    rgb[0, 0] = (index % 256, index // 256, 7)
    return rgb


def sample(sequence: int, rgb: np.ndarray | None = None, x: float = 0.0) -> types_pb2.Sample:
    rgb = picture(sequence) if rgb is None else rgb
    return types_pb2.Sample(
        frame=encode_frame(rgb, sequence, 1000 + sequence), joystick=types_pb2.Joystick(x=x, y=-0.5 * x, a=True)
    )


def make_dataset(data_root: Path, name: str, count: int, width: int = 64, height: int = 48) -> list[np.ndarray]:
    """A dataset in the original TensorKart layout (as record.py wrote it), small pictures."""
    folder = data_root / "samples" / name
    folder.mkdir(parents=True)
    pictures = []
    lines = []
    for index in range(count):
        rgb = picture(index, width, height)
        Image.fromarray(rgb).save(folder / f"img_{index}.png")
        pictures.append(rgb)
        x = round(-1 + 2 * index / max(1, count - 1), 4)
        lines.append(f"samples/{name}/img_{index}.png,{x},0.0,1,0,{index % 2}\n")
    (folder / "data.csv").write_text("".join(lines))
    return pictures
