"""Replay source: the frames and joystick of a recorded dataset, in order, at a chosen rate."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from tensorkart_capture.sources.base import CapturedFrame, FrameSource, Pacer
from tensorkart_core.dataset import CSV_NAME, dataset_dir, read_rows, resolve_image
from tensorkart_core.proto.v1 import types_pb2


class ReplaySource(FrameSource):
    """Yields every row of samples/<dataset>/data.csv: its image as RGB and its joystick.

    rate_hz 0 replays as fast as the images load; `loop` starts over at the end.
    """

    kind = "replay"

    def __init__(self, data_root: Path | str, dataset: str, rate_hz: float = 30.0, loop: bool = False) -> None:
        self.data_root = Path(data_root)
        self.dataset = dataset
        self.csv_path = dataset_dir(self.data_root, dataset) / CSV_NAME
        if not self.csv_path.is_file():
            raise FileNotFoundError(f"dataset {dataset!r} has no {CSV_NAME} under {self.csv_path.parent}")
        self.rows, _problems = read_rows(self.csv_path, strict=True)
        if not self.rows:
            raise ValueError(f"dataset {dataset!r} has no rows")
        self.rate_hz = rate_hz
        self.loop = loop
        self._closed = False

    def describe(self) -> dict[str, str]:
        return {"source": self.kind, "replay_of": self.dataset}

    def frames(self) -> Iterator[CapturedFrame]:
        pacer = Pacer(self.rate_hz)
        sequence = 0
        while not self._closed:
            for row in self.rows:
                if self._closed:
                    return
                with Image.open(resolve_image(self.data_root, self.csv_path, row.image)) as image:
                    rgb = np.asarray(image.convert("RGB"))
                pacer.wait()
                sequence += 1
                joystick = types_pb2.Joystick(x=row.x, y=row.y, a=bool(row.a), b=bool(row.b), rb=bool(row.rb))
                yield CapturedFrame(sequence, time.monotonic_ns(), rgb, game_frame=sequence, joystick=joystick)
            if not self.loop:
                return

    def close(self) -> None:
        self._closed = True
