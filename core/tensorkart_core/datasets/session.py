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


def frame_times(session: dict[str, Any], frames: int, default_rate: float = 10.0) -> list[float]:
    """Seconds since the first frame for each of `frames` frames: session.json's per-frame times
    (`frame_times` / `timestamps`, seconds) when it has one per frame, else index / rate."""
    for key in TIMES_KEYS:
        values = session.get(key)
        if isinstance(values, list) and len(values) == frames and frames:
            try:
                times = [float(v) for v in values]
            except (TypeError, ValueError):
                continue
            if all(math.isfinite(t) for t in times):
                return [round(t - times[0], 6) for t in times]
    rate = frame_rate(session) or default_rate
    return [round(i / rate, 6) for i in range(frames)]
