"""The timeline of a dataset: every frame (kept and soft-deleted) as columns, for the dashboard's
curation page, the movie and the exports."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from tensorkart_core.datasets.curation import Frame, frames, stamp
from tensorkart_core.datasets.layout import CSV_NAME, dataset_dir
from tensorkart_core.datasets.paths import resolve_image
from tensorkart_core.datasets.session import frame_rate, frame_times, load_session

DEFAULT_FPS = 10.0


def timeline(data_root: Path, name: str) -> dict[str, Any]:
    """`{name, fps, count, deleted_count, frames: {index, t, x, y, a, b, rb, deleted}}` (columns).

    t is seconds from session.json's per-frame times when it has them, else index / fps (fps
    from session.json, 10 when it does not say: the original format records no rate)."""
    every = frames(data_root, name)
    session = load_session(dataset_dir(data_root, name))
    fps = frame_rate(session) or DEFAULT_FPS
    return {
        "name": name,
        "fps": fps,
        "count": len(every),
        "deleted_count": sum(f.deleted for f in every),
        "frames": {
            "index": [f.index for f in every],
            "t": frame_times(session, len(every), fps),
            "x": [f.row.x for f in every],
            "y": [f.row.y for f in every],
            "a": [f.row.a for f in every],
            "b": [f.row.b for f in every],
            "rb": [f.row.rb for f in every],
            "deleted": [f.deleted for f in every],
        },
    }


@functools.lru_cache(maxsize=8)
def _frames_at(data_root: Path, name: str, stamps: tuple) -> list[Frame]:
    return frames(data_root, name)


def frame_image(data_root: Path, name: str, index: int) -> Path:
    """The image file of timeline frame `index` (kept or deleted); IndexError when out of range.
    Scrubbing asks for many frames: the frame list is kept while data.csv and deleted.csv are unchanged."""
    every = _frames_at(Path(data_root), name, stamp(data_root, name))
    if not 0 <= index < len(every):
        raise IndexError(f"frame {index} is out of range: {name} has {len(every)} frames (0..{len(every) - 1})")
    return image_of(data_root, name, every[index])


def image_of(data_root: Path, name: str, frame: Frame) -> Path:
    return resolve_image(data_root, dataset_dir(data_root, name) / CSV_NAME, frame.row.image)
