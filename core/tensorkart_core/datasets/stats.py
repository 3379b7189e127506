"""Dataset statistics: frames, duration, resolution, steering histogram, validation state.

One description serves the CLI (`datasets list/inspect`) and the REST API (`/v1/datasets`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tensorkart_core.datasets.layout import DELETED_NAME, dataset_dir
from tensorkart_core.datasets.rows import read_rows
from tensorkart_core.datasets.scan import scan
from tensorkart_core.datasets.session import duration, frame_rate, load_session

HISTOGRAM_BINS = 21
SUMMARY_KEYS = ("name", "frames", "rows", "deleted", "duration_s", "steering_histogram", "validation")


def steering_histogram(xs: Iterable[float], bins: int = HISTOGRAM_BINS) -> dict[str, list]:
    """Counts of x over `bins` equal bins of [-1, 1] (the middle bin is straight ahead), with the edges."""
    values = np.fromiter(xs, dtype=np.float64)
    counts, edges = np.histogram(values, bins=bins, range=(-1.0, 1.0))
    return {"edges": [round(float(e), 4) for e in edges], "counts": [int(c) for c in counts]}


def sparkline(counts: list[int]) -> str:
    """A one-line picture of a histogram."""
    blocks = " ▁▂▃▄▅▆▇█"
    top = max(counts) if counts and max(counts) else 1
    return "".join(blocks[round(c / top * 8)] for c in counts)


def _resolution(session: dict[str, Any], first_image: str | None) -> str | None:
    if isinstance(session.get("resolution"), str):
        return session["resolution"]
    if first_image is None:
        return None
    try:
        with Image.open(first_image) as image:
            return f"{image.width}x{image.height}"
    except (OSError, ValueError):
        return None


def describe(data_root: Path, name: str, bins: int = HISTOGRAM_BINS) -> dict[str, Any]:
    """Frames, rows, soft-deleted rows, rate, duration, resolution, steering histogram, validation, session."""
    result = scan(data_root, name)
    directory = dataset_dir(data_root, name)
    session = load_session(directory)
    deleted, _ = read_rows(directory / DELETED_NAME, strict=False)
    xs = [s.values[0] for s in result.samples]
    problems = result.bad_rows + result.bad_images
    return {
        "name": name,
        "frames": len(result.samples),
        "rows": result.rows,
        "deleted": len(deleted),
        "rate_hz": frame_rate(session),
        "duration_s": duration(session, result.rows),
        "resolution": _resolution(session, result.samples[0].path if result.samples else None),
        "source": session.get("source") if isinstance(session.get("source"), str) else None,
        "steering_histogram": steering_histogram(xs, bins),
        "steering_mean": float(np.mean(xs)) if xs else None,
        "accelerate_fraction": float(np.mean([s.values[2] for s in result.samples])) if xs else None,
        "validation": {
            "valid": not problems and result.rows > 0,
            "bad_rows": len(result.bad_rows),
            "bad_images": len(result.bad_images),
            "problems": problems[:20],
        },
        "session": session,
    }


def summary(data_root: Path, name: str) -> dict[str, Any]:
    info = describe(data_root, name)
    return {k: info[k] for k in SUMMARY_KEYS}
