"""Durable, ordered dataset writing: images encoded in parallel, rows appended in frame order.

An image is written to a hidden temp name and renamed into place; its data.csv row is
appended only after that, in submission order, and the csv is flushed after every batch
of rows. So after a kill -9 no row names a missing or partial image, and at most the
frames still being encoded are missing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tensorkart_core.datasets import CSV_NAME, Row, image_index, image_relpath, read_rows, repair_tail
from tensorkart_recorder import metrics
from tensorkart_recorder.frame_log import FrameLog

log = logging.getLogger(__name__)

# Called once per submitted frame, in submission order: None when written, else the reason.
DoneCallback = Callable[[str | None], None]
# (seconds since the first frame, LB held, starts a new run of sequences): see frame_log.
Mark = tuple[float, bool, bool]


@dataclass
class _Pending:
    index: int
    row: Row
    done: DoneCallback
    mark: Mark | None = None
    future: Future | None = None


def next_free_index(directory: Path) -> tuple[int, int]:
    """(1 + the highest image index named in data.csv or present on disk, rows in data.csv).

    Orphan images (written, row lost in a crash) are never overwritten.
    """
    highest = -1
    rows: list[Row] = []
    csv_path = directory / CSV_NAME
    if csv_path.is_file():
        rows, _problems = read_rows(csv_path, strict=False)
        for row in rows:
            index = image_index(row.image)
            if index is not None:
                highest = max(highest, index)
    for path in directory.glob("img_*.png"):
        index = image_index(path.name)
        if index is not None:
            highest = max(highest, index)
    return highest + 1, len(rows)


def clean_temp_files(directory: Path) -> int:
    """Remove half-written images a killed recorder left behind; returns how many."""
    removed = 0
    for path in directory.glob(".img_*.png.tmp"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


class DatasetWriter:
    """Appends frames to one dataset folder (samples/<name>/)."""

    def __init__(
        self,
        directory: Path,
        name: str,
        pool: ThreadPoolExecutor,
        compress_level: int = 1,
        max_pending: int = 24,
        fsync: bool = False,
    ) -> None:
        self.directory = directory
        self.name = name
        self._pool = pool
        self._compress_level = compress_level
        self._fsync = fsync
        directory.mkdir(parents=True, exist_ok=True)
        clean_temp_files(directory)
        repaired = repair_tail(directory / CSV_NAME)
        if repaired:
            log.warning("%s: cut a partial last row (%d bytes) left by an interrupted writer", name, repaired)
        self._next_index, self.existing_rows = next_free_index(directory)
        self._csv = open(directory / CSV_NAME, "a", encoding="utf-8", newline="")  # noqa: SIM115 - long-lived
        self._pending: deque[_Pending] = deque()
        self._lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._room = threading.BoundedSemaphore(max_pending)
        self._idle = threading.Condition(self._lock)
        self.written = 0
        self.failed = 0
        self._closed = False
        self.frame_log: FrameLog | None = None  # set by the session: receives each written row's mark

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def submit(
        self,
        rgb: np.ndarray,
        x: float,
        y: float,
        a: int,
        b: int,
        rb: int,
        done: DoneCallback,
        mark: Mark | None = None,
    ) -> None:
        """Queue one frame; blocks while `max_pending` frames are still being written (back-pressure).
        `mark` goes to the frame log with the row (a row without one leaves the log incomplete)."""
        self._room.acquire()
        with self._lock:
            if self._closed:
                self._room.release()
                raise RuntimeError(f"dataset writer for {self.name} is closed")
            index = self._next_index
            self._next_index += 1
            item = _Pending(index, Row(image_relpath(self.name, index), x, y, a, b, rb), done, mark)
            self._pending.append(item)
            metrics.PENDING.inc()
        item.future = self._pool.submit(self._write_image, index, rgb)
        item.future.add_done_callback(lambda _future: self._commit_ready())

    def _write_image(self, index: int, rgb: np.ndarray) -> None:
        started = time.perf_counter()
        final = self.directory / f"img_{index}.png"
        temp = self.directory / f".img_{index}.png.tmp"
        with open(temp, "wb") as handle:
            Image.fromarray(rgb, mode="RGB").save(handle, format="PNG", compress_level=self._compress_level)
            if self._fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, final)
        metrics.ENCODE_SECONDS.observe(time.perf_counter() - started)

    def _commit_ready(self) -> None:
        """Append the rows of every finished image at the head of the queue, in order, then flush."""
        with self._commit_lock:
            ready: list[tuple[_Pending, str | None]] = []
            with self._lock:
                while self._pending and self._pending[0].future is not None and self._pending[0].future.done():
                    item = self._pending.popleft()
                    error = item.future.exception()
                    ready.append((item, None if error is None else f"writing image {item.index} failed: {error}"))
            if not ready:
                return
            written = [item for item, error in ready if error is None]
            if written and self.frame_log is not None:  # before the rows: never a row without its mark
                self.frame_log.append([item.mark for item in written])
            text = "".join(item.row.to_csv() for item in written)
            if text:
                self._csv.write(text)
                self._csv.flush()
                if self._fsync:
                    os.fsync(self._csv.fileno())
            for item, error in ready:
                if error is None:
                    self.written += 1
                    metrics.FRAMES_WRITTEN.inc()
                else:
                    self.failed += 1
                    metrics.WRITE_FAILURES.inc()
                    log.error("%s: %s", self.name, error)
                metrics.PENDING.dec()
                self._room.release()
                item.done(error)
            with self._lock:
                if not self._pending:
                    self._idle.notify_all()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every submitted frame is written (or failed); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._pending:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining if remaining is not None else 0.5)
        return True

    def close(self, timeout: float | None = None) -> None:
        """Finish writing what was submitted, flush (and fsync) data.csv, close it."""
        self.drain(timeout)
        with self._lock:
            self._closed = True
        with self._commit_lock:
            if not self._csv.closed:
                self._csv.flush()
                os.fsync(self._csv.fileno())
                self._csv.close()
