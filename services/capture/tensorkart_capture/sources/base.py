"""What every frame source yields, and the pacing they share."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tensorkart_core.proto.v1 import types_pb2


@dataclass
class CapturedFrame:
    """One captured picture, stamped at the edge.

    sequence: per-source counter starting at 1, strictly increasing; capture_time_ns:
    time.monotonic_ns() on this host when the picture was taken; game_frame: the game's
    own frame number when the source knows it (else 0); joystick: what the driver pressed
    for this frame when the source knows it (simulator, replay), else None. A source yields a new
    picture each time and never changes one it yielded (the live view holds it without a copy).
    """

    sequence: int
    capture_time_ns: int
    rgb: np.ndarray
    game_frame: int = 0
    joystick: types_pb2.Joystick | None = None


class FrameSource(ABC):
    """An iterator of CapturedFrame with `close()`; also a context manager."""

    kind = "source"

    def __iter__(self) -> Iterator[CapturedFrame]:
        return self.frames()

    @abstractmethod
    def frames(self) -> Iterator[CapturedFrame]:
        """The frames, in capture order."""

    def close(self) -> None:  # noqa: B027 - a no-op default; sources holding resources override it
        """Release the source (idempotent)."""

    def describe(self) -> dict[str, str]:
        """What to store in session.json about this source."""
        return {"source": self.kind}

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class Pacer:
    """Ticks at `rate_hz` on the monotonic clock without drift; 0 = no pacing.

    A tick that comes late (the process was descheduled, a grab was slow) is caught up
    by the following ones, so the average rate holds; once more than `max_lag_s` behind,
    the schedule restarts from now instead of bursting (counted in `late_restarts`).
    """

    def __init__(self, rate_hz: float, max_lag_s: float = 0.25) -> None:
        if rate_hz < 0:
            raise ValueError(f"rate must be >= 0 frames per second, got {rate_hz}")
        self.period_ns = int(1e9 / rate_hz) if rate_hz > 0 else 0
        self.max_lag_ns = max(self.period_ns, int(max_lag_s * 1e9))
        self._next: int | None = None
        self.late_restarts = 0

    def wait(self) -> None:
        if not self.period_ns:
            return
        now = time.monotonic_ns()
        if self._next is None:
            self._next = now
        delay = self._next - now
        if delay > 0:
            time.sleep(delay / 1e9)
        elif -delay > self.max_lag_ns:
            self.late_restarts += 1
            self._next = now
        self._next += self.period_ns
