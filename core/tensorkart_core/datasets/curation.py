"""Soft delete and restore of frame ranges.

Deleted rows move from data.csv to `deleted.csv` beside it (same row format, no header), so
data.csv stays the TensorKart file the original scripts and our training read, and training
leaves deleted frames out without knowing about curation. Restored rows go back to data.csv in
their original order.

Frame indices are positions in the whole recording (kept and deleted rows together), ordered by
the image number n of `img_<n>.png`, as the timeline shows them. Writes are atomic and ordered so
that a crash between the two files can only leave a row in both (then it counts as deleted and
the next delete/restore tidies up), never in neither.
"""

from __future__ import annotations

import fcntl
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tensorkart_core.datasets.atomic import write_text
from tensorkart_core.datasets.layout import CSV_NAME, DELETED_NAME, image_index, require_dataset
from tensorkart_core.datasets.rows import Row, RowError, read_rows, rows_text
from tensorkart_core.datasets.session import load_session

LOCK_NAME = ".curation.lock"


class CurationError(ValueError):
    """A delete/restore that cannot be done (bad range, unordered frames, recording in progress); says why."""


@dataclass(frozen=True)
class Frame:
    """One frame of the whole recording: its timeline index, row, and whether it is soft-deleted."""

    index: int
    row: Row
    deleted: bool


@dataclass(frozen=True)
class CurationSummary:
    name: str
    count: int
    kept: int
    deleted_count: int
    changed: int

    def to_dict(self) -> dict[str, int | str]:
        return {
            "name": self.name,
            "count": self.count,
            "kept": self.kept,
            "deleted_count": self.deleted_count,
            "changed": self.changed,
        }


def _order_key(row: Row, where: str) -> int:
    number = image_index(row.image)
    if number is None:
        raise CurationError(
            f"{where}: image {row.image!r} is not named img_<n>.png, so the frame order cannot be kept; "
            "import the dataset (`tensorkart datasets import`) to renumber it"
        )
    return number


def _read(folder: Path) -> tuple[list[Row], list[Row]]:
    try:
        kept, _ = read_rows(folder / CSV_NAME, strict=True)
        deleted, _ = read_rows(folder / DELETED_NAME, strict=True)
    except RowError as error:
        raise CurationError(f"{error}; fix it (`tensorkart datasets validate`) before curating") from None
    return kept, deleted


def frames(data_root: Path, name: str) -> list[Frame]:
    """Every frame, kept and deleted, in recording order (image number), indexed from 0."""
    folder = require_dataset(data_root, name)
    kept, deleted = _read(folder)
    return _merge(kept, deleted, folder)


def _merge(kept: list[Row], deleted: list[Row], folder: Path) -> list[Frame]:
    keys = [_order_key(r, str(folder / CSV_NAME)) for r in kept]
    if any(b <= a for a, b in itertools.pairwise(keys)):
        raise CurationError(
            f"{folder / CSV_NAME}: rows are not in increasing img_<n> order, so deleted rows could not be "
            "put back in place; import the dataset (`tensorkart datasets import`) to renumber it"
        )
    by_key: dict[int, tuple[Row, bool]] = {k: (r, False) for k, r in zip(keys, kept, strict=True)}
    for row in deleted:
        by_key[_order_key(row, str(folder / DELETED_NAME))] = (row, True)  # in both (crash): deleted
    return [Frame(i, row, flag) for i, (_k, (row, flag)) in enumerate(sorted(by_key.items()))]


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with open(folder / LOCK_NAME, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check_not_recording(folder: Path) -> None:
    segments = load_session(folder).get("segments")
    last = segments[-1] if isinstance(segments, list) and segments else None
    if isinstance(last, dict) and "ended" in last and last["ended"] is None:
        raise CurationError(
            f"{folder.name} is being recorded (session.json has an open segment; a recording that was "
            "interrupted resumes under the same name); curate it after the recording ends"
        )


def _check_range(start: int, end: int, total: int) -> None:
    if start < 0 or end < 0:
        raise CurationError(f"frame indices must not be negative (got {start}..{end})")
    if start > end:
        raise CurationError(f"range start {start} is after its end {end}")
    if end >= total:
        raise CurationError(f"frame {end} is out of range: the dataset has {total} frames (0..{total - 1})")


def _apply(data_root: Path, name: str, start: int, end: int, delete: bool) -> CurationSummary:
    folder = require_dataset(data_root, name)
    with _locked(folder):
        _check_not_recording(folder)
        kept_rows, deleted_rows = _read(folder)
        every = _merge(kept_rows, deleted_rows, folder)
        _check_range(start, end, len(every))
        changed = sum(1 for f in every if start <= f.index <= end and f.deleted != delete)
        state = [f.deleted or (delete and start <= f.index <= end) for f in every]
        if not delete:
            state = [flag and not (start <= f.index <= end) for f, flag in zip(every, state, strict=True)]
        kept = [f.row for f, flag in zip(every, state, strict=True) if not flag]
        gone = [f.row for f, flag in zip(every, state, strict=True) if flag]
        # Order the two writes so a crash leaves a row in both files (counted deleted), never in neither.
        first, second = (DELETED_NAME, CSV_NAME) if delete else (CSV_NAME, DELETED_NAME)
        texts = {CSV_NAME: rows_text(kept), DELETED_NAME: rows_text(gone)}
        for file_name in (first, second):
            if file_name == DELETED_NAME and not gone:
                (folder / DELETED_NAME).unlink(missing_ok=True)
            else:
                write_text(folder / file_name, texts[file_name])
    return CurationSummary(name, len(every), len(kept), len(gone), changed)


def delete_range(data_root: Path, name: str, start: int, end: int) -> CurationSummary:
    """Soft-delete frames start..end (inclusive timeline indices): their rows move to deleted.csv."""
    return _apply(data_root, name, start, end, delete=True)


def restore_range(data_root: Path, name: str, start: int, end: int) -> CurationSummary:
    """Bring soft-deleted frames start..end back into data.csv, in their original order."""
    return _apply(data_root, name, start, end, delete=False)


def _file_stamp(path: Path) -> tuple[int, int, int]:
    try:
        info = path.stat()
    except FileNotFoundError:
        return (0, 0, 0)
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def stamp(data_root: Path, name: str) -> tuple:
    """Changes whenever data.csv or deleted.csv is replaced (atomic writes give a new inode) or modified:
    a cache key for anything computed from a dataset's frames."""
    folder = require_dataset(data_root, name)
    return _file_stamp(folder / CSV_NAME), _file_stamp(folder / DELETED_NAME)


def curation_summary(data_root: Path, name: str) -> CurationSummary:
    every = frames(data_root, name)
    deleted = sum(f.deleted for f in every)
    return CurationSummary(name, len(every), len(every) - deleted, deleted, 0)
