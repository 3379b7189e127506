"""Recording sessions: one dataset being written by one Record stream, and its session.json.

session.json beside data.csv holds what the TensorKart layout has no room for: source,
track, rate, resolution, pad mapping, start/end of every segment (a resumed stream adds
one), and the frame totals. Counters survive a resume: they continue from the file.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tensorkart_core.datasets import (
    CSV_NAME,
    DELETED_NAME,
    SESSION_NAME,
    dataset_dir,
    read_rows,
    validate_name,
    write_text,
)
from tensorkart_core.proto.v1 import recorder_pb2
from tensorkart_recorder.frame_log import Clock, FrameLog
from tensorkart_recorder.writer import DatasetWriter

log = logging.getLogger(__name__)


class DatasetExists(Exception):
    """resume=false for a dataset that already exists (we never overwrite)."""


class SessionBusy(Exception):
    """Another stream is still writing this dataset."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class Session:
    """The live state of one dataset being recorded."""

    def __init__(self, start: recorder_pb2.SessionStart, writer: DatasetWriter) -> None:
        self.name = start.name
        self.directory = writer.directory
        self.relpath = f"samples/{start.name}"
        self.writer = writer
        self.lock = threading.Lock()
        previous = self._load()
        metadata = dict(start.metadata)
        self.capture_id = start.capture_id
        self.gaps_are_drops = start.sequence_gaps_are_drops
        self.info: dict[str, Any] = previous or {"name": self.name, "path": self.relpath, "created": now_iso()}
        self.info.setdefault("metadata", {}).update(metadata)
        for key in ("source", "track", "pad_mapping"):
            if key in metadata:
                self.info[key] = metadata[key]
        if start.rate_hz:
            self.info["rate_hz"] = round(float(start.rate_hz), 3)
        self.info.setdefault("segments", []).append({"started": now_iso(), "ended": None, "resume": start.resume})
        self.base_received = _int(self.info.get("frames_received"))
        # data.csv is the truth after a crash (session.json may be up to a second old).
        self.base_written = writer.existing_rows
        self.base_received = max(self.base_received, self.base_written)
        self.base_rejected = _int(self.info.get("frames_rejected"))
        # The client reports its cumulative drops when it (re)connects; frames it drops later
        # show up as gaps in the sequence numbers of this stream.
        if previous and previous.get("capture_id") == self.capture_id and self.capture_id:
            self.dropped_earlier_captures = _int(previous.get("frames_dropped_earlier_captures"))
        else:
            self.dropped_earlier_captures = _int(self.info.get("frames_dropped"))
        self.client_dropped = start.frames_dropped
        self.gaps = 0
        self.received = 0
        self.rejected = 0
        self.last_sequence: int | None = None
        self.resolution: str | None = self.info.get("resolution")
        self.info["capture_id"] = self.capture_id
        deleted, _problems = read_rows(self.directory / DELETED_NAME, strict=False)
        self.frame_log = FrameLog(self.directory, writer.existing_rows + len(deleted), self.info)
        self.clock = Clock(self.capture_id)
        saved_clock = self.info.get("clock")
        if isinstance(saved_clock, dict) and self.capture_id and saved_clock.get("capture_id") == self.capture_id:
            # the same capture process reconnecting: its monotonic clock goes on
            self.clock = Clock(
                self.capture_id, _int(saved_clock.get("anchor_ns")), float(saved_clock["anchor_t"]), True
            )
        writer.frame_log = self.frame_log
        self.save()

    def _load(self) -> dict[str, Any] | None:
        path = self.directory / SESSION_NAME
        if not path.is_file():
            return None
        try:
            loaded = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            log.warning("%s: unreadable %s (%s); starting a new one", self.name, SESSION_NAME, error)
            return None
        return loaded if isinstance(loaded, dict) else None

    @property
    def dropped(self) -> int:
        return self.dropped_earlier_captures + self.client_dropped + self.gaps

    def end_of_stream(self, frames_dropped: int) -> None:
        """The client's final drop count for this capture: it covers the sequence gaps seen so far."""
        self.client_dropped = frames_dropped
        self.gaps = 0

    def note_sequence(self, sequence: int) -> None:
        """Count the frames the client skipped before this one (its drops), when its sequence is contiguous."""
        if self.gaps_are_drops and self.last_sequence is not None and sequence > self.last_sequence + 1:
            self.gaps += sequence - self.last_sequence - 1
        self.last_sequence = sequence

    def mark(self, sample_sequence: int, capture_time_ns: int, lb: bool) -> tuple[float, bool, bool]:
        """(t, lb, new_run) of an accepted sample, before `note_sequence` sees it: its time since the
        dataset's first frame, whether the human held LB, and whether it starts a new run of sequences."""
        new_run = self.last_sequence is None or sample_sequence != self.last_sequence + 1
        return self.frame_log.time_of(self.clock, capture_time_ns), lb, new_run

    def summary(self) -> recorder_pb2.SessionSummary:
        return recorder_pb2.SessionSummary(
            name=self.name,
            path=self.relpath,
            frames_received=self.base_received + self.received,
            frames_written=self.base_written + self.writer.written,
            frames_rejected=self.base_rejected + self.rejected,
            frames_dropped=self.dropped,
        )

    def save(self, ended: bool = False) -> None:
        """Write session.json atomically (temp file + rename)."""
        summary = self.summary()
        with self.lock:
            self.info.update(
                frames_received=summary.frames_received,
                frames_written=summary.frames_written,
                frames_rejected=summary.frames_rejected,
                frames_dropped=summary.frames_dropped,
                frames_dropped_earlier_captures=self.dropped_earlier_captures,
                updated=now_iso(),
            )
            if self.resolution:
                self.info["resolution"] = self.resolution
            self.frame_log.fold(self.info, final=ended)
            if self.clock.anchored:
                clock = self.clock
                self.info["clock"] = {
                    "capture_id": clock.capture_id,
                    "anchor_ns": clock.anchor_ns,
                    "anchor_t": clock.anchor_t,
                }
            if ended:
                self.info["segments"][-1]["ended"] = now_iso()
                self.info["ended"] = self.info["segments"][-1]["ended"]
            self.info["started"] = self.info["segments"][0]["started"]
            write_text(self.directory / SESSION_NAME, json.dumps(self.info, indent=2, sort_keys=True) + "\n")


class SessionRegistry:
    """Opens sessions (name checks, no overwrite, one stream per dataset) and tracks the live ones."""

    def __init__(
        self,
        data_root: Path,
        pool: ThreadPoolExecutor,
        compress_level: int,
        max_pending: int,
        fsync: bool,
    ) -> None:
        self.data_root = Path(data_root)
        self._pool = pool
        self._compress_level = compress_level
        self._max_pending = max_pending
        self._fsync = fsync
        self._live: dict[str, Session] = {}
        self._changed = threading.Condition()

    def open(self, start: recorder_pb2.SessionStart, wait_busy: float = 5.0) -> Session:
        """A new live session; raises DatasetNameError, DatasetExists or SessionBusy."""
        name = validate_name(start.name)
        directory = dataset_dir(self.data_root, name)
        with self._changed:
            # A resuming client may reconnect before the server noticed its old stream died.
            deadline = time.monotonic() + wait_busy
            while name in self._live:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SessionBusy(f"dataset {name!r} is being recorded by another stream")
                self._changed.wait(remaining)
            if self.exists(name) and not start.resume:
                raise DatasetExists(f"dataset {name!r} already exists at samples/{name} (resume was not set)")
            directory.mkdir(parents=True, exist_ok=True)
            writer = DatasetWriter(directory, name, self._pool, self._compress_level, self._max_pending, self._fsync)
            session = Session(start, writer)
            self._live[name] = session
            return session

    def close(self, session: Session) -> None:
        """Finish writing, flush, record the end in session.json, release the name."""
        try:
            session.writer.close()
            session.save(ended=True)
            session.frame_log.close(remove=True)  # its content is in session.json now
        finally:
            session.frame_log.close(remove=False)
            with self._changed:
                if self._live.get(session.name) is session:
                    del self._live[session.name]
                self._changed.notify_all()

    def live(self, name: str) -> Session | None:
        with self._changed:
            return self._live.get(name)

    def live_count(self) -> int:
        with self._changed:
            return len(self._live)

    def wait_all_closed(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._live:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    def exists(self, name: str) -> bool:
        """True when samples/NAME holds anything (a dataset we must not overwrite)."""
        directory = dataset_dir(self.data_root, name)
        return directory.is_dir() and any(directory.iterdir())

    def saved_summary(self, name: str) -> recorder_pb2.SessionSummary | None:
        """Totals of a finished session from its session.json (None when there is no such dataset).

        A dataset in the original layout (data.csv, no session.json) counts its data.csv rows as written.
        """
        path = dataset_dir(self.data_root, name) / SESSION_NAME
        if not path.is_file():
            if not self.exists(name):
                return None
            csv = dataset_dir(self.data_root, name) / CSV_NAME
            rows = sum(1 for line in csv.open() if line.strip()) if csv.is_file() else 0
            return recorder_pb2.SessionSummary(name=name, path=f"samples/{name}", frames_written=rows)
        info = json.loads(path.read_text())
        return recorder_pb2.SessionSummary(
            name=name,
            path=f"samples/{name}",
            frames_received=_int(info.get("frames_received")),
            frames_written=_int(info.get("frames_written")),
            frames_rejected=_int(info.get("frames_rejected")),
            frames_dropped=_int(info.get("frames_dropped")),
        )
