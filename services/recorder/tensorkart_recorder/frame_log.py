"""Per-frame times and intervention marks of a dataset being recorded, folded into session.json at close.

While a stream records, each written row appends one line `t,lb,new_run` to the hidden side file
`.frame_log.csv` beside data.csv, in the same commit as its data.csv row and written before it
(so after a kill -9 the side file has at least as many lines as data.csv has rows; the extra ones
are cut on resume). session.json is rewritten every second while recording and must stay small,
so the times only go into it when the stream closes:

- `frame_times`: seconds since the dataset's first frame, one per frame in timeline order, from
  each Sample's `capture_time_ns` (the capture host's monotonic clock; each new capture process
  is anchored on the recorder's wall clock, so a resume continues the time line);
- `interventions`: `[start, end]` frame ranges (inclusive) where the human held LB (took over
  from the model): consecutive LB frames of one run of sequence numbers. The play relay's sparse
  `<session>-interventions` streams send only those frames, so each takeover is one range.

A dataset whose earlier frames have no times (recorded by an older recorder) gets neither key.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

LOG_NAME = ".frame_log.csv"


def intervention_ranges(lb: list[bool], new_run: list[bool]) -> list[list[int]]:
    """Inclusive [start, end] ranges of consecutive LB frames, split where a new run of sequences begins."""
    ranges: list[list[int]] = []
    for index, (held, fresh) in enumerate(zip(lb, new_run, strict=True)):
        if held and ranges and ranges[-1][1] == index - 1 and not fresh:
            ranges[-1][1] = index
        elif held:
            ranges.append([index, index])
    return ranges


def _flags_from_ranges(count: int, ranges: object) -> tuple[list[bool], list[bool]]:
    lb, new_run = [False] * count, [False] * count
    for mark in ranges if isinstance(ranges, list) else []:
        if isinstance(mark, int):
            mark = [mark, mark]
        if isinstance(mark, list) and len(mark) == 2 and all(isinstance(v, int) for v in mark):
            start, end = max(0, mark[0]), min(count - 1, mark[1])
            for index in range(start, end + 1):
                lb[index] = True
            if start <= end:
                new_run[start] = True
    return lb, new_run


@dataclass
class Clock:
    """Maps one capture process's monotonic capture times onto seconds since the dataset's first frame."""

    capture_id: str
    anchor_ns: int = 0
    anchor_t: float = 0.0
    anchored: bool = False


class FrameLog:
    """The side file of one dataset folder, and the times/flags of every row it holds."""

    def __init__(self, directory: Path, rows: int, session: dict[str, Any]) -> None:
        """`rows`: frames already in the dataset (kept + soft-deleted); `session`: its session.json,
        whose `frame_times`/`interventions` are taken out (they come back at close)."""
        self.path = Path(directory) / LOG_NAME
        self.times: list[float] = []
        self.lb: list[bool] = []
        self.new_run: list[bool] = []
        folded_times = session.pop("frame_times", None)
        folded_marks = session.pop("interventions", None)
        if self.path.is_file():
            self._read(rows)
        elif rows and isinstance(folded_times, list) and len(folded_times) == rows:
            self.times = [float(t) for t in folded_times]
            self.lb, self.new_run = _flags_from_ranges(rows, folded_marks)
        self.complete = len(self.times) == rows
        if not self.complete:
            log.warning(
                "%s: %d of %d frames have times; frame_times will be left out", directory, len(self.times), rows
            )
        self.origin = float(session.get("time_origin") or 0.0) or None
        self._rewrite()
        self._file = open(self.path, "a", encoding="ascii")  # noqa: SIM115 - long-lived, closed in close()

    def _read(self, rows: int) -> None:
        for line in self.path.read_text(encoding="ascii", errors="replace").splitlines():
            parts = line.split(",")
            try:
                t, held, fresh = float(parts[0]), parts[1] == "1", parts[2] == "1"
            except (IndexError, ValueError):
                break  # a partial last line left by a kill
            self.times.append(t)
            self.lb.append(held)
            self.new_run.append(fresh)
        del self.times[rows:], self.lb[rows:], self.new_run[rows:]

    def _rewrite(self) -> None:
        temp = self.path.with_name(self.path.name + ".tmp")
        temp.write_text(self.lines(range(len(self.times))), encoding="ascii")
        os.replace(temp, self.path)

    def lines(self, indices: range) -> str:
        return "".join(f"{self.times[i]:.6f},{int(self.lb[i])},{int(self.new_run[i])}\n" for i in indices)

    @property
    def last_time(self) -> float:
        return self.times[-1] if self.times else 0.0

    def time_of(self, clock: Clock, capture_time_ns: int) -> float:
        """Seconds since the dataset's first frame for a frame captured at `capture_time_ns` on `clock`."""
        now = time.time()
        if self.origin is None:
            self.origin = now
        if capture_time_ns <= 0:  # the client does not stamp its frames: the recorder's receive time
            return max(self.last_time, now - self.origin)
        if not clock.anchored or capture_time_ns < clock.anchor_ns:
            clock.anchor_ns, clock.anchor_t = capture_time_ns, max(self.last_time, now - self.origin)
            clock.anchored = True
        return clock.anchor_t + (capture_time_ns - clock.anchor_ns) / 1e9

    def append(self, marks: list[tuple[float, bool, bool] | None]) -> None:
        """Append the (t, lb, new_run) of committed rows (called by the writer, in row order, before
        their data.csv rows are written); a row without a mark makes the times incomplete."""
        start = len(self.times)
        for mark in marks:
            if mark is None:
                self.complete = False
            t, held, fresh = mark or (self.last_time, False, True)
            self.times.append(t)
            self.lb.append(held)
            self.new_run.append(fresh)
        self._file.write(self.lines(range(start, len(self.times))))
        self._file.flush()

    def fold(self, session: dict[str, Any], final: bool) -> None:
        """Put `time_origin` (and, when `final`, `frame_times` and `interventions`) into the session dict."""
        if self.origin is not None:
            session["time_origin"] = round(self.origin, 6)
        if final and self.complete and self.times:
            session["frame_times"] = [round(t, 6) for t in self.times]
            session["interventions"] = intervention_ranges(self.lb, self.new_run)

    def close(self, remove: bool) -> None:
        """Close the side file; remove it once its content is safely in session.json."""
        if not self._file.closed:
            self._file.close()
        if remove:
            self.path.unlink(missing_ok=True)
