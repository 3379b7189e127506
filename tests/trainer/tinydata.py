"""Tiny TensorKart-layout datasets with real PNGs for the trainer tests (and benchmarks)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from tensorkart_core.dataset import CSV_NAME, SESSION_NAME, Row, image_relpath


def frame(rng: np.random.Generator, steer: float, width: int = 640, height: int = 480, noise: int = 20) -> np.ndarray:
    """A synthetic road scene whose picture depends on the steering (so a model can learn it)."""
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[: height // 3] = (90, 140, 220)  # sky
    image[height // 3 :] = (40, 150, 60)  # grass
    ys = np.arange(height // 3, height)
    depth = (ys - height // 3) / (height - height // 3)
    centre = width / 2 + steer * width * 0.35 * (1 - depth)
    half = 20 + depth * width * 0.3
    xs = np.arange(width)
    road = np.abs(xs[None, :] - centre[:, None]) < half[:, None]
    block = image[height // 3 :]
    block[road] = (110, 110, 110)
    grain = rng.integers(0, noise + 1, size=image.shape, dtype=np.uint8)
    return np.clip(image.astype(np.int16) + grain, 0, 255).astype(np.uint8)


def make_dataset(
    data_root: Path,
    name: str,
    frames: int = 24,
    seed: int = 0,
    width: int = 640,
    height: int = 480,
    noise: int = 20,
    pixel: int = 1,
) -> list[Row]:
    """Write samples/<name>/img_<n>.png + data.csv + session.json; return the rows.

    pixel=2 renders at half size and doubles every pixel, like the N64's 320x240 picture in a
    640x480 emulator window (and the practice track's renderer).
    """
    rng = np.random.default_rng(seed)
    folder = Path(data_root) / "samples" / name
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for index in range(frames):
        steer = float(np.round(np.sin(index / 3.0 + seed) * 0.8, 4))
        picture = frame(rng, steer, width // pixel, height // pixel, noise).repeat(pixel, 0).repeat(pixel, 1)
        Image.fromarray(picture).save(folder / f"img_{index}.png", compress_level=1)
        rows.append(Row(image_relpath(name, index), steer, 0.0, 1, 0, 0))
    (folder / CSV_NAME).write_text("".join(r.to_csv() for r in rows))
    (folder / SESSION_NAME).write_text(json.dumps({"name": name, "rate_hz": 10, "frames": frames}))
    return rows
