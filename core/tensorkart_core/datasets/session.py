"""session.json: the metadata beside data.csv, and the one rule for frame rate, duration and frame times."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from tensorkart_core.datasets.layout import SESSION_NAME

RATE_KEYS = ("rate_hz", "fps", "frame_rate")
TIMES_KEYS = ("frame_times", "timestamps")


def load_session(directory: Path) -> dict[str, Any]:
    """The folder's session.json as a dict ({} when missing or unreadable)."""
    path = Path(directory) / SESSION_NAME
    try:
        loaded = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def frame_rate(session: dict[str, Any]) -> float | None:
    """The recording rate in Hz, or None when session.json does not say (the original format)."""
    for key in RATE_KEYS:
        value = session.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
            return float(value)
    return None


def duration(session: dict[str, Any], frames: int) -> float | None:
    """Seconds of recording: frames / rate (None without a rate)."""
    rate = frame_rate(session)
    return round(frames / rate, 3) if rate else None


def recorded_times(session: dict[str, Any], frames: int) -> list[float] | None:
    """session.json's per-frame times (`frame_times` / `timestamps`, seconds) when it has one per frame."""
    for key in TIMES_KEYS:
        values = session.get(key)
        if isinstance(values, list) and len(values) == frames and frames:
            try:
                times = [float(v) for v in values]
            except (TypeError, ValueError):
                continue
            if all(math.isfinite(t) for t in times):
                return times
    return None


def frame_times(session: dict[str, Any], frames: int, default_rate: float = 10.0) -> list[float]:
    """Seconds since the first frame for each of `frames` frames: session.json's per-frame times
    when it has one per frame, else index / rate."""
    times = recorded_times(session, frames)
    if times is not None:
        return [round(t - times[0], 6) for t in times]
    rate = frame_rate(session) or default_rate
    return [round(i / rate, 6) for i in range(frames)]


def intervention_marks(session: dict[str, Any], frames: int) -> list[tuple[int, int]]:
    """session.json's `interventions` (frame indices or inclusive [start, end] ranges) as ranges within
    the `frames` frames; malformed marks are skipped."""
    marks = session.get("interventions")
    ranges = []
    for mark in marks if isinstance(marks, list) else []:
        if isinstance(mark, int) and not isinstance(mark, bool):
            mark = [mark, mark]
        if isinstance(mark, list | tuple) and len(mark) == 2 and all(isinstance(v, int) for v in mark):
            start, end = max(0, mark[0]), min(frames - 1, mark[1])
            if start <= end:
                ranges.append((start, end))
    return ranges


def intervention_flags(session: dict[str, Any], frames: int) -> list[bool]:
    """For each frame, whether one of session.json's `interventions` covers it."""
    flags = [False] * frames
    for start, end in intervention_marks(session, frames):
        flags[start : end + 1] = [True] * (end - start + 1)
    return flags


def intervention_ranges(held: list[bool], new_run: list[bool]) -> list[list[int]]:
    """Inclusive [start, end] ranges of consecutive held frames, split where `new_run` starts a new stretch."""
    ranges: list[list[int]] = []
    for index, (on, fresh) in enumerate(zip(held, new_run, strict=True)):
        if on and ranges and ranges[-1][1] == index - 1 and not fresh:
            ranges[-1][1] = index
        elif on:
            ranges.append([index, index])
    return ranges
