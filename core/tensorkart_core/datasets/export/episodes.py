"""A dataset as the exports see it: episodes of kept frames on a regular clock.

Soft-deleted frames are left out; each unbroken stretch of kept frames is one episode (so no
timestamp jumps over a cut). Frame times come from session.json (per-frame times when it has
them, else index / rate); an episode is resampled onto the export's fps by taking, for each tick
k / fps, the latest recorded frame at or before it (sample and hold), so timestamps are exactly
k / fps whatever the recording's jitter or rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tensorkart_core.datasets.curation import frames
from tensorkart_core.datasets.layout import dataset_dir
from tensorkart_core.datasets.session import frame_rate, frame_times, load_session
from tensorkart_core.datasets.timeline import DEFAULT_FPS, image_of

OUTPUTS = ("x", "y", "a", "b", "rb")


class ExportError(ValueError):
    """An export or import that cannot be done (no frames, bad folder, missing library); says why."""


@dataclass
class Episode:
    """One unbroken stretch of kept frames, resampled: image paths, values and timeline indices per tick."""

    dataset: str
    task: str
    fps: int
    images: list[Path] = field(default_factory=list)
    values: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    source_index: list[int] = field(default_factory=list)

    @property
    def length(self) -> int:
        return len(self.images)


def _stretches(flags: list[bool]) -> list[tuple[int, int]]:
    """[start, end) runs of kept (not deleted) frames."""
    runs, start = [], None
    for i, deleted in enumerate([*flags, True]):
        if not deleted and start is None:
            start = i
        elif deleted and start is not None:
            runs.append((start, i))
            start = None
    return runs


def resample(times: list[float], fps: float) -> list[int]:
    """For ticks k / fps from the first time to the last, the position of the latest frame at or before each."""
    if not times:
        return []
    start, picks, j = times[0], [], 0
    ticks = math.floor((times[-1] - start) * fps + 1e-6) + 1
    for k in range(ticks):
        tick = start + k / fps
        while j + 1 < len(times) and times[j + 1] <= tick + 1e-9:
            j += 1
        picks.append(j)
    return picks


def task_of(session: dict[str, Any], name: str) -> str:
    track = session.get("track") or (session.get("metadata") or {}).get("track")
    return f"drive the {track} track" if isinstance(track, str) and track else f"drive ({name})"


def episodes_of(data_root: Path, name: str, fps: int | None = None) -> list[Episode]:
    """The dataset's kept frames as episodes at `fps` (default: its own rate, rounded; 10 without one)."""
    every = frames(data_root, name)
    session = load_session(dataset_dir(data_root, name))
    rate = frame_rate(session) or DEFAULT_FPS
    target = int(fps or max(1, round(rate)))
    times = frame_times(session, len(every), rate)
    task = task_of(session, name)
    result = []
    for start, end in _stretches([f.deleted for f in every]):
        stretch = every[start:end]
        episode = Episode(name, task, target)
        for pick in resample(times[start:end], target):
            frame = stretch[pick]
            episode.images.append(image_of(data_root, name, frame))
            episode.values.append(frame.row.outputs)
            episode.source_index.append(frame.index)
        result.append(episode)
    if not result:
        raise ExportError(f"dataset {name!r} has no kept frames to export")
    return result
