"""Dataset tools that write a *new* dataset (never touching their input): flip, trim, import a folder.

Images go through a temp name and a rename, rows in order, session.json last; a name that
exists is refused.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from tensorkart_core.datasets.atomic import write_atomically, write_text
from tensorkart_core.datasets.layout import CSV_NAME, SESSION_NAME, dataset_dir, image_relpath, validate_name
from tensorkart_core.datasets.paths import resolve_image
from tensorkart_core.datasets.rows import Row, RowError, parse_row, read_rows
from tensorkart_core.datasets.session import load_session

Progress = Callable[[int, int], None]
ImageWriter = Callable[[Path], None]


class DatasetToolError(ValueError):
    """A tool that cannot run (missing input, existing output, invalid source); says why."""


def new_dataset_dir(data_root: Path, name: str) -> Path:
    """Create samples/<name>; DatasetToolError when it exists and is not empty."""
    directory = dataset_dir(data_root, validate_name(name))
    if directory.exists() and any(directory.iterdir()):
        raise DatasetToolError(f"dataset {name!r} already exists at {directory}; choose another name")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def write_dataset(
    data_root: Path,
    name: str,
    items: Iterable[tuple[ImageWriter, Row]],
    total: int,
    session: dict[str, Any],
    progress: Progress | None = None,
    threads: int = 4,
) -> int:
    """Write a new dataset: for each (write_image(path), row) in order, the image as img_<i>.png
    and the row with its path rewritten. Returns the number of frames."""
    directory = new_dataset_dir(data_root, name)
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
            future = pool.submit(write_atomically, target, write_image, False)
            window.append((future, Row(image_relpath(name, index), row.x, row.y, row.a, row.b, row.rb)))
            if len(window) >= threads * 4:
                flush_window()
        flush_window()
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    info = {"name": name, "path": f"samples/{name}", "created": now, "frames_written": count, **session}
    write_text(directory / SESSION_NAME, json.dumps(info, indent=2, sort_keys=True) + "\n")
    return count


def source_rows(data_root: Path, name: str) -> tuple[Path, list[Row], dict[str, Any]]:
    """(folder, rows, session) of an existing dataset whose rows all parse; DatasetToolError otherwise."""
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


def inherit(session: dict[str, Any]) -> dict[str, Any]:
    """The session.json keys a derived dataset keeps."""
    keep = ("source", "track", "rate_hz", "resolution", "pad_mapping", "metadata")
    return {k: session[k] for k in keep if k in session}


def copies(data_root: Path, csv_path: Path, rows: list[Row]) -> Iterator[tuple[ImageWriter, Row]]:
    """(copy the image byte for byte, row) for each row."""
    for row in rows:
        path = resolve_image(data_root, csv_path, row.image)

        def write(temp: Path, path: Path = path) -> None:
            shutil.copyfile(path, temp)

        yield write, row


def flip_dataset(data_root: Path, source: str, target: str, progress: Progress | None = None) -> int:
    """Mirror every image left-right and negate x (the workshop's flip-data.py) into a new dataset."""
    directory, rows, session = source_rows(data_root, source)

    def items() -> Iterator[tuple[ImageWriter, Row]]:
        for row in rows:
            path = resolve_image(data_root, directory / CSV_NAME, row.image)

            def write(temp: Path, path: Path = path) -> None:
                with Image.open(path) as image:
                    ImageOps.mirror(image.convert("RGB")).save(temp, format="PNG", compress_level=1)

            yield write, Row(row.image, -row.x if row.x else 0.0, row.y, row.a, row.b, row.rb)

    info = {**inherit(session), "derived_from": source, "transform": "flip (mirror images, x -> -x)"}
    return write_dataset(data_root, target, items(), len(rows), info, progress)


def trim_dataset(
    data_root: Path, source: str, target: str, head: int = 0, tail: int = 0, progress: Progress | None = None
) -> int:
    """Drop the first `head` and last `tail` frames into a new dataset (images copied byte for byte)."""
    if head < 0 or tail < 0:
        raise DatasetToolError("--head and --tail must not be negative")
    directory, rows, session = source_rows(data_root, source)
    kept = rows[head : len(rows) - tail if tail else len(rows)]
    if not kept:
        raise DatasetToolError(f"trimming {head} + {tail} frames leaves nothing of {len(rows)}")
    info = {**inherit(session), "derived_from": source, "transform": f"trim (first {head}, last {tail} dropped)"}
    return write_dataset(data_root, target, copies(data_root, directory / CSV_NAME, kept), len(kept), info, progress)


@dataclass
class ImportReport:
    rows: list[Row]
    csv_path: Path
    problems: list[str]


def check_folder(folder: Path) -> ImportReport:
    """Validate a folder in TensorKart layout before import: rows, and every image present and readable."""
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


def import_folder(
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

    def items() -> Iterator[tuple[ImageWriter, Row]]:
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
    info = {**inherit(session), "imported_from": str(Path(folder).resolve()), "source": session.get("source", "import")}
    count = write_dataset(data_root, name, items(), len(report.rows), info, progress)
    return count, report.problems
