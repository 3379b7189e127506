"""Dataset tools on shared storage: statistics, flip, trim, import, contact sheet.

Every tool writes a *new* dataset (never touching its input), image by image through a
temp name and a rename, rows in order, session.json last; a name that exists is refused.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from tensorkart_core.dataset import (
    CSV_NAME,
    SESSION_NAME,
    Row,
    RowError,
    dataset_dir,
    image_relpath,
    parse_row,
    read_rows,
    resolve_image,
    validate_name,
)

Progress = Callable[[int, int], None]
HISTOGRAM_BINS = 11


class DatasetToolError(ValueError):
    """A tool that cannot run (missing input, existing output, invalid source); says why."""


@dataclass
class DatasetStats:
    name: str
    frames: int
    rate_hz: float | None
    duration_s: float | None
    resolution: str | None
    histogram: list[int]
    source: str | None = None
    problems: int = 0
    session: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "frames": self.frames,
            "rate_hz": self.rate_hz,
            "duration_s": self.duration_s,
            "resolution": self.resolution,
            "steering_histogram": self.histogram,
            "source": self.source,
            "bad_rows": self.problems,
        }


def load_session(directory: Path) -> dict[str, Any]:
    path = directory / SESSION_NAME
    try:
        loaded = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, json.JSONDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def steering_histogram(xs: Iterable[float], bins: int = HISTOGRAM_BINS) -> list[int]:
    """Counts of x over `bins` equal bins of [-1, 1] (the middle bin is straight ahead)."""
    values = np.fromiter(xs, dtype=np.float64)
    counts, _edges = np.histogram(values, bins=bins, range=(-1.0, 1.0))
    return [int(c) for c in counts]


def dataset_stats(data_root: Path, name: str) -> DatasetStats:
    directory = dataset_dir(data_root, name)
    rows, problems = read_rows(directory / CSV_NAME, strict=False)
    session = load_session(directory)
    rate = session.get("rate_hz")
    rate = float(rate) if isinstance(rate, int | float) and rate > 0 else None
    duration = round(len(rows) / rate, 2) if rate else None
    resolution = session.get("resolution")
    if resolution is None and rows:
        first = resolve_image(data_root, directory / CSV_NAME, rows[0].image)
        if first.is_file():
            with Image.open(first) as image:
                resolution = f"{image.width}x{image.height}"
    return DatasetStats(
        name,
        len(rows),
        rate,
        duration,
        resolution,
        steering_histogram(r.x for r in rows),
        session.get("source"),
        len(problems),
        session,
    )


def sparkline(counts: list[int]) -> str:
    """A one-line picture of a histogram."""
    blocks = " ▁▂▃▄▅▆▇█"
    top = max(counts) if counts and max(counts) else 1
    return "".join(blocks[round(c / top * 8)] for c in counts)


# -- writing a new dataset ------------------------------------------------------------------------


def _new_dataset_dir(data_root: Path, name: str) -> Path:
    directory = dataset_dir(data_root, validate_name(name))
    if directory.exists() and any(directory.iterdir()):
        raise DatasetToolError(f"dataset {name!r} already exists at {directory}; choose another name")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    temp = target.with_name(f".{target.name}.tmp")
    write(temp)
    os.replace(temp, target)


def write_dataset(
    data_root: Path,
    name: str,
    items: Iterable[tuple[Callable[[Path], None], Row]],
    total: int,
    session: dict[str, Any],
    progress: Progress | None = None,
    threads: int = 4,
) -> int:
    """Write a new dataset: for each (write_image(path), row) in order, the image as img_<i>.png
    and the row with its path rewritten. Returns the number of frames."""
    directory = _new_dataset_dir(data_root, name)
    count = 0
    with open(directory / CSV_NAME, "w", encoding="utf-8", newline="") as csv, ThreadPoolExecutor(threads) as pool:
        window: list[tuple[Any, Row]] = []

        def flush_window() -> None:
            nonlocal count
            for future, row in window:
                future.result()
                csv.write(row.to_csv())
                count += 1
                if progress:
                    progress(count, total)
            csv.flush()
            window.clear()

        for index, (write_image, row) in enumerate(items):
            target = directory / f"img_{index}.png"
            future = pool.submit(_write_atomically, target, write_image)
            new_row = Row(image_relpath(name, index), row.x, row.y, row.a, row.b, row.rb)
            window.append((future, new_row))
            if len(window) >= threads * 4:
                flush_window()
        flush_window()
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    info = {"name": name, "path": f"samples/{name}", "created": now, "frames_written": count, **session}
    (directory / SESSION_NAME).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return count


def _source(data_root: Path, name: str) -> tuple[Path, list[Row], dict[str, Any]]:
    directory = dataset_dir(data_root, name)
    if not (directory / CSV_NAME).is_file():
        raise DatasetToolError(f"dataset {name!r} not found (no {directory / CSV_NAME})")
    try:
        rows, _ = read_rows(directory / CSV_NAME, strict=True)
    except RowError as error:
        raise DatasetToolError(
            f"dataset {name!r} has a malformed row ({error}); run `tensorkart datasets validate {name}`"
        ) from None
    return directory, rows, load_session(directory)


def _inherit(session: dict[str, Any]) -> dict[str, Any]:
    keep = ("source", "track", "rate_hz", "resolution", "pad_mapping", "metadata")
    return {k: session[k] for k in keep if k in session}


def flip_dataset(data_root: Path, source: str, target: str, progress: Progress | None = None) -> int:
    """Mirror every image left-right and negate x (the workshop's flip-data.py) into a new dataset."""
    directory, rows, session = _source(data_root, source)

    def items() -> Iterator[tuple[Callable[[Path], None], Row]]:
        for row in rows:
            path = resolve_image(data_root, directory / CSV_NAME, row.image)

            def write(temp: Path, path: Path = path) -> None:
                with Image.open(path) as image:
                    ImageOps.mirror(image.convert("RGB")).save(temp, format="PNG", compress_level=1)

            yield write, Row(row.image, -row.x if row.x else 0.0, row.y, row.a, row.b, row.rb)

    info = {**_inherit(session), "derived_from": source, "transform": "flip (mirror images, x -> -x)"}
    return write_dataset(data_root, target, items(), len(rows), info, progress)


def trim_dataset(
    data_root: Path, source: str, target: str, head: int = 0, tail: int = 0, progress: Progress | None = None
) -> int:
    """Drop the first `head` and last `tail` frames into a new dataset (images copied byte for byte)."""
    if head < 0 or tail < 0:
        raise DatasetToolError("--head and --tail must not be negative")
    directory, rows, session = _source(data_root, source)
    kept = rows[head : len(rows) - tail if tail else len(rows)]
    if not kept:
        raise DatasetToolError(f"trimming {head} + {tail} frames leaves nothing of {len(rows)}")
    info = {**_inherit(session), "derived_from": source, "transform": f"trim (first {head}, last {tail} dropped)"}
    return write_dataset(data_root, target, _copies(data_root, directory / CSV_NAME, kept), len(kept), info, progress)


def _copies(data_root: Path, csv_path: Path, rows: list[Row]) -> Iterator[tuple[Callable[[Path], None], Row]]:
    for row in rows:
        path = resolve_image(data_root, csv_path, row.image)

        def write(temp: Path, path: Path = path) -> None:
            shutil.copyfile(path, temp)

        yield write, row


@dataclass
class ImportReport:
    rows: list[Row]
    csv_path: Path
    problems: list[str]


def check_folder(folder: Path) -> ImportReport:
    """Validate a folder in TensorKart layout before import: rows, and every image present and a PNG."""
    folder = Path(folder)
    csv_path = folder / CSV_NAME
    if not csv_path.is_file():
        raise DatasetToolError(f"{folder} has no {CSV_NAME}: not a TensorKart dataset folder")
    rows: list[Row] = []
    problems: list[str] = []
    guess_root = folder.parent.parent
    text = csv_path.read_bytes().decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = parse_row(line, number)
        except RowError as error:
            problems.append(f"{CSV_NAME} {error}")
            continue
        image = resolve_image(guess_root, csv_path, row.image)
        if not image.is_file():
            problems.append(f"{CSV_NAME} line {number}: image {row.image} not found in {folder}")
            continue
        try:
            with Image.open(image) as opened:
                opened.verify()
        except Exception as error:  # PIL raises many kinds for a broken file
            problems.append(f"{CSV_NAME} line {number}: image {row.image} is unreadable ({error})")
            continue
        rows.append(Row(str(image), row.x, row.y, row.a, row.b, row.rb))
    if not rows and not problems:
        problems.append(f"{csv_path}: no rows")
    return ImportReport(rows, csv_path, problems)


def import_dataset(
    data_root: Path, folder: Path, name: str, skip_bad: bool = False, progress: Progress | None = None
) -> tuple[int, list[str]]:
    """Validate a TensorKart-layout folder and add it as samples/<name>, csv paths rewritten.

    With problems the import is refused (the report says why) unless `skip_bad`, which
    leaves the bad rows out. Returns (frames imported, problems).
    """
    validate_name(name)
    report = check_folder(folder)
    if report.problems and not skip_bad:
        raise DatasetToolError(
            f"{folder} is not a valid TensorKart dataset ({len(report.problems)} problem"
            f"{'' if len(report.problems) == 1 else 's'}):\n  " + "\n  ".join(report.problems[:20])
        )
    if not report.rows:
        raise DatasetToolError(f"{folder}: no usable rows")

    def items() -> Iterator[tuple[Callable[[Path], None], Row]]:
        for row in report.rows:
            source = Path(row.image)

            def write(temp: Path, source: Path = source) -> None:
                if source.suffix.lower() == ".png":
                    shutil.copyfile(source, temp)
                else:
                    with Image.open(source) as image:
                        image.convert("RGB").save(temp, format="PNG", compress_level=1)

            yield write, row

    session = load_session(Path(folder))
    info = {
        **_inherit(session),
        "imported_from": str(Path(folder).resolve()),
        "source": session.get("source", "import"),
    }
    count = write_dataset(data_root, name, items(), len(report.rows), info, progress)
    return count, report.problems


# -- contact sheet --------------------------------------------------------------------------------


def contact_sheet(
    data_root: Path, name: str, out: Path, count: int = 24, columns: int = 6, thumb_width: int = 200
) -> Path:
    """A PNG grid of `count` evenly spaced frames, each with its steering drawn on it."""
    directory, rows, _session = _source(data_root, name)
    if count < 1 or columns < 1:
        raise DatasetToolError("--count and --columns must be at least 1")
    picks = sorted({round(i * (len(rows) - 1) / max(1, count - 1)) for i in range(min(count, len(rows)))})
    thumbs = []
    for index in picks:
        row = rows[index]
        with Image.open(resolve_image(data_root, directory / CSV_NAME, row.image)) as image:
            rgb = image.convert("RGB")
            height = max(1, round(rgb.height * thumb_width / rgb.width))
            thumb = rgb.resize((thumb_width, height), Image.Resampling.BILINEAR)
        draw_steering(thumb, row, index)
        thumbs.append(thumb)
    height = max(t.height for t in thumbs)
    rows_needed = (len(thumbs) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * (thumb_width + 4) + 4, rows_needed * (height + 4) + 4), (24, 24, 24))
    for i, thumb in enumerate(thumbs):
        sheet.paste(thumb, (4 + (i % columns) * (thumb_width + 4), 4 + (i // columns) * (height + 4)))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, format="PNG")
    return out


def draw_steering(image: Image.Image, row: Row, index: int) -> None:
    """Draw x as a bar from the centre (left red, right green) and the values as text."""
    draw = ImageDraw.Draw(image)
    w, h = image.size
    centre = w // 2
    end = centre + round(row.x * (w // 2 - 4))
    top = h - 14
    draw.rectangle((0, top - 12, w, h), fill=(0, 0, 0))
    draw.line((centre, top, centre, h - 2), fill=(255, 255, 255))
    colour = (230, 60, 60) if row.x < 0 else (60, 220, 90)
    draw.rectangle((min(centre, end), top + 2, max(centre, end), h - 4), fill=colour)
    buttons = "".join(n for n, v in (("A", row.a), ("B", row.b), ("R", row.rb)) if v)
    draw.text((3, top - 12), f"#{index} x={row.x:+.2f} {buttons}", fill=(255, 255, 255))
