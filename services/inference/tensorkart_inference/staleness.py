"""How late a Drive frame arrives, measured without comparing two hosts' clocks.

A frame's capture time comes from the edge's monotonic clock, its arrival time from this
server's: their difference is an unknown clock offset plus the frame's delay (network, queues
on either side). The quickest frame of the recent past carries the least delay, so a frame's
lag is its difference minus the smallest difference seen in the last `window_s`: the offset
cancels, and what is left is how much later than the stream's best this frame came. A server
that falls behind sees the lag of the frames waiting for it grow and answers them stale; a
window of seconds keeps clock drift (parts per million) out of the figure.
"""

from __future__ import annotations

from collections import deque


class ArrivalLag:
    """Lag of each frame of one stream against the quickest frame of the last `window_s`."""

    def __init__(self, window_s: float = 10.0) -> None:
        self._window_ns = int(window_s * 1e9)
        # (arrived_ns, offset_ns) with strictly increasing offsets: the front is the window's minimum
        self._candidates: deque[tuple[int, int]] = deque()

    def observe(self, capture_time_ns: int, arrived_ns: int) -> int:
        """This frame's lag in nanoseconds (0 when the frame carries no capture time)."""
        if capture_time_ns <= 0:
            return 0
        offset = arrived_ns - capture_time_ns
        candidates = self._candidates
        while candidates and candidates[-1][1] >= offset:
            candidates.pop()
        candidates.append((arrived_ns, offset))
        while candidates[0][0] < arrived_ns - self._window_ns:
            candidates.popleft()
        return offset - candidates[0][1]
