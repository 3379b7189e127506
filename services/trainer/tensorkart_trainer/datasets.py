"""Datasets on shared storage as the trainer sees them: resolve names/globs, describe, sample lists.

No TensorFlow here: the API imports this module.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tensorkart_core.dataset import (
    CSV_NAME,
    SESSION_NAME,
    DatasetNameError,
    RowError,
    dataset_dir,
    list_datasets,
    parse_row,
    validate_name,
)
from tensorkart_core.image_paths import resolve_image

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HISTOGRAM_BINS = 21


class DatasetNotFound(LookupError):
    """No dataset of that name (or no dataset matches the pattern)."""


def validate_pattern(pattern: str) -> str:
    """A dataset name or glob; raise DatasetNameError when it could escape samples/."""
    plain = pattern
    for char in "*?[]!":
        plain = plain.replace(char, "x")
    validate_name(plain)
    return pattern


def resolve(data_root: Path, patterns: list[str]) -> list[str]:
    """Dataset names matching `patterns` (names or globs), in order, without repeats."""
    available = list_datasets(data_root)
    names: list[str] = []
    for pattern in patterns:
        validate_pattern(pattern)
        matched = [n for n in available if fnmatch.fnmatchcase(n, pattern)]
        if not matched:
            raise DatasetNotFound(f"no dataset matches {pattern!r} (have: {', '.join(available) or 'none'})")
        names.extend(n for n in matched if n not in names)
    return names


@dataclass
class Sample:
    """One usable frame: absolute image path and the five recorded values."""

    path: str
    values: tuple[float, float, float, float, float]


@dataclass
class DatasetScan:
    """Every row of one dataset: usable samples plus what was wrong with the rest."""

    name: str
    samples: list[Sample] = field(default_factory=list)
    bad_rows: list[str] = field(default_factory=list)
    bad_images: list[str] = field(default_factory=list)
    rows: int = 0


def _image_problem(path: Path) -> str | None:
    """Cheap check without decoding: exists, non-empty, PNG signature (truncation shows at decode)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        return f"unreadable ({error.strerror})"
    if head != PNG_MAGIC:
        return "not a PNG"
    return None


def scan(data_root: Path, name: str, check_images: bool = True) -> DatasetScan:
    """Parse data.csv of `name`, never raising on a bad row or image: they are listed instead."""
    folder = dataset_dir(data_root, name)
    csv_path = folder / CSV_NAME
    if not csv_path.is_file():
        raise DatasetNotFound(f"dataset {name!r} not found (no {CSV_NAME})")
    result = DatasetScan(name)
    root = Path(data_root).resolve()
    with open(csv_path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            result.rows += 1
            try:
                row = parse_row(line, number)
            except RowError as error:
                result.bad_rows.append(f"{name}/{CSV_NAME} {error}")
                continue
            image = resolve_image(root, csv_path, row.image)
            problem = _image_problem(image) if check_images else None
            if problem:
                result.bad_images.append(f"{row.image}: {problem}")
                continue
            result.samples.append(Sample(str(image), row.outputs))
    return result


def read_session(data_root: Path, name: str) -> dict[str, Any]:
    path = dataset_dir(data_root, name) / SESSION_NAME
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _duration(session: dict[str, Any], frames: int) -> float | None:
    for key in ("duration_s", "duration_seconds", "duration", "seconds"):
        value = session.get(key)
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    for key in ("rate_hz", "fps", "frame_rate"):
        value = session.get(key)
        if isinstance(value, int | float) and value > 0:
            return frames / float(value)
    return None


def steering_histogram(xs: list[float], bins: int = HISTOGRAM_BINS) -> dict[str, list[float]]:
    counts, edges = np.histogram(np.asarray(xs, dtype=np.float64), bins=bins, range=(-1.0, 1.0))
    return {"edges": [round(float(e), 4) for e in edges], "counts": [int(c) for c in counts]}


def describe(data_root: Path, name: str) -> dict[str, Any]:
    """Frames, duration, steering histogram and validation state of one dataset."""
    result = scan(data_root, name)
    session = read_session(data_root, name)
    xs = [s.values[0] for s in result.samples]
    problems = result.bad_rows + result.bad_images
    return {
        "name": name,
        "frames": len(result.samples),
        "rows": result.rows,
        "duration_s": _duration(session, result.rows),
        "steering_histogram": steering_histogram(xs),
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
    return {k: info[k] for k in ("name", "frames", "rows", "duration_s", "steering_histogram", "validation")}


def content_hash(scan_result: DatasetScan) -> str:
    """sha256 over the used frames' values and image bytes, in order: equal data, equal hash."""
    digest = hashlib.sha256()
    for sample in scan_result.samples:
        digest.update(json.dumps(sample.values).encode())
        try:
            with open(sample.path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()


def contact_sheet(data_root: Path, name: str, count: int = 12, columns: int = 6, thumb_width: int = 120) -> bytes:
    """A PNG grid of `count` frames spread evenly over the dataset, with the steering drawn on each."""
    from PIL import ImageDraw

    samples = scan(data_root, name, check_images=False).samples
    if not samples:
        raise DatasetNotFound(f"dataset {name!r} has no usable frames")
    picks = [samples[int(i)] for i in np.linspace(0, len(samples) - 1, min(count, len(samples)))]
    thumb_height = thumb_width * 3 // 4
    rows = math.ceil(len(picks) / columns)
    sheet = Image.new("RGB", (columns * thumb_width, rows * thumb_height), (24, 24, 24))
    for index, sample in enumerate(picks):
        try:
            with Image.open(sample.path) as image:
                image.draft("RGB", (thumb_width, thumb_height))
                thumb = image.convert("RGB").resize((thumb_width, thumb_height), Image.Resampling.BILINEAR)
        except (OSError, ValueError, Image.DecompressionBombError):
            thumb = Image.new("RGB", (thumb_width, thumb_height), (90, 0, 0))
        draw = ImageDraw.Draw(thumb)
        centre = thumb_width // 2
        tip = centre + int(sample.values[0] * (thumb_width // 2 - 4))
        draw.rectangle((0, thumb_height - 8, thumb_width, thumb_height), fill=(0, 0, 0))
        draw.rectangle((min(centre, tip), thumb_height - 7, max(centre, tip), thumb_height - 2), fill=(80, 220, 120))
        sheet.paste(thumb, ((index % columns) * thumb_width, (index // columns) * thumb_height))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()


__all__ = [
    "DatasetNameError",
    "DatasetNotFound",
    "DatasetScan",
    "Sample",
    "contact_sheet",
    "content_hash",
    "describe",
    "resolve",
    "scan",
    "summary",
    "validate_pattern",
]
