"""`tensorkart datasets movie NAME`: an MP4 of a dataset with the steering drawn on every frame."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from tensorkart_core.datasets.export.episodes import episodes_of
from tensorkart_core.datasets.export.video import write_mp4
from tensorkart_core.datasets.sheet import button_label, draw_steering


def movie(
    data_root: Path, name: str, out: Path, fps: int | None = None, progress: Callable[[int, int], None] | None = None
) -> int:
    """Write `out` (MP4, H.264): the kept frames at the dataset's rate, each with x as a bar (left red,
    right green) and the frame index, x and buttons as text; a cut (deleted stretch) is skipped.
    Returns the number of frames written."""
    episodes = episodes_of(data_root, name, fps)
    total = sum(e.length for e in episodes)
    size: tuple[int, int] | None = None

    def pictures() -> Iterator[np.ndarray]:
        nonlocal size
        done = 0
        for episode in episodes:
            for path, values, index in zip(episode.images, episode.values, episode.source_index, strict=True):
                with Image.open(path) as image:
                    rgb = image.convert("RGB")
                size = size or rgb.size
                if rgb.size != size:
                    rgb = rgb.resize(size, Image.Resampling.BILINEAR)
                x, _y, a, b, rb = values
                draw_steering(rgb, x, button_label(index, x, a, b, rb))
                yield np.asarray(rgb)
                done += 1
                if progress:
                    progress(done, total)

    return write_mp4(out, pictures(), episodes[0].fps)
