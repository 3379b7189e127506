"""Model-vs-human steering agreement over a window of recent frames (shadow mode, overrides).

A pair is one frame for which both a MODEL and a HUMAN steering arrived (matched by
frame_sequence). Human steering that names no frame (frame_sequence 0) is paired with the
next model steering while it is fresh.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass

AGREE_WITHIN = 0.1
# Frames remembered per side while waiting for the other side's steering.
PENDING_FRAMES = 256


@dataclass(frozen=True)
class Agreement:
    frames: int
    mean_abs_dx: float
    within_0_1: float


class AgreementTracker:
    """Not thread-safe: the controller calls it under its own lock."""

    def __init__(self, window: int) -> None:
        self._diffs: deque[float] = deque(maxlen=window)
        self._within = 0
        self._model: OrderedDict[int, float] = OrderedDict()
        self._human: OrderedDict[int, float] = OrderedDict()
        self._unframed_human: tuple[float, int] | None = None  # (x, arrival ns)
        self.pairs_total = 0

    def _add(self, dx: float) -> None:
        if len(self._diffs) == self._diffs.maxlen:
            old = self._diffs[0]
            self._within -= old <= AGREE_WITHIN
        self._diffs.append(dx)
        self._within += dx <= AGREE_WITHIN
        self.pairs_total += 1

    @staticmethod
    def _remember(side: OrderedDict[int, float], frame: int, x: float) -> None:
        side[frame] = x
        while len(side) > PENDING_FRAMES:
            side.popitem(last=False)

    def model(self, frame: int, x: float, now_ns: int, fresh_ns: int) -> float | None:
        """Record model steering; returns |dx| when it completes a pair."""
        if frame and frame in self._human:
            dx = abs(x - self._human.pop(frame))
        elif self._unframed_human and now_ns - self._unframed_human[1] <= fresh_ns:
            dx = abs(x - self._unframed_human[0])
        else:
            if frame:
                self._remember(self._model, frame, x)
            return None
        self._add(dx)
        return dx

    def human(self, frame: int, x: float, now_ns: int) -> float | None:
        """Record human steering; returns |dx| when it completes a pair."""
        if not frame:
            self._unframed_human = (x, now_ns)
            return None
        self._unframed_human = None
        if frame in self._model:
            dx = abs(self._model.pop(frame) - x)
            self._add(dx)
            return dx
        self._remember(self._human, frame, x)
        return None

    def summary(self) -> Agreement:
        n = len(self._diffs)
        if not n:
            return Agreement(0, 0.0, 0.0)
        return Agreement(n, math.fsum(self._diffs) / n, self._within / n)
