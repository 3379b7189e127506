"""How old a Drive frame is, by absolute age, though its capture time is another host's clock.

A frame's capture time comes from the edge's monotonic clock, this server's clocks are its
own: `received - capture` is the clocks' offset plus the frame's transit (edge queue, network,
gRPC buffers). Every frame is read off the stream the moment it arrives (the server's event
loop reads streams independently of the model), so the smallest `received - capture` of the
recent past is the offset plus the quickest transit: the edge's clock mapped onto ours. A
frame's age is then `now - (capture + offset)`, evaluated when the model is about to run it:
it grows with every millisecond the frame waited anywhere, at the edge, on the way, or in this
server's queue behind other frames, so a frame that waited is answered stale even when every
frame of its stream waited (which a lag measured against the stream's quickest frame misses).
A window of seconds keeps clock drift (parts per million) out of the estimate.
"""

from __future__ import annotations

from collections import deque


class EdgeClock:
    """One stream's edge clock offset (window minimum) and the age of its frames."""

    def __init__(self, window_s: float = 10.0) -> None:
        self._window_ns = int(window_s * 1e9)
        # (received_ns, offset_ns) with strictly increasing offsets: the front is the window's minimum
        self._candidates: deque[tuple[int, int]] = deque()

    def observe(self, capture_time_ns: int, received_ns: int) -> None:
        """A frame arrived; frames without a capture time (0) say nothing about the clock."""
        if capture_time_ns <= 0:
            return
        offset = received_ns - capture_time_ns
        candidates = self._candidates
        while candidates and candidates[-1][1] >= offset:
            candidates.pop()
        candidates.append((received_ns, offset))
        while candidates[0][0] < received_ns - self._window_ns:
            candidates.popleft()

    @property
    def offset_ns(self) -> int | None:
        """Server clock minus edge clock (plus the quickest transit), None before any frame."""
        return self._candidates[0][1] if self._candidates else None

    def age_ns(self, capture_time_ns: int, now_ns: int) -> int:
        """How long ago (server clock) the frame was captured, less the quickest transit; 0 when
        the frame carries no capture time or nothing is known about the edge's clock yet."""
        offset = self.offset_ns
        if capture_time_ns <= 0 or offset is None:
            return 0
        return max(0, now_ns - (capture_time_ns + offset))
