"""The frame feed: one stream of SimFrame messages fanned out to any number of gRPC subscribers
(tensorkart.v1.Simulator/StreamFrames), served alike by the practice track and the emulator.

Lock-step: publishing a message waits until every subscriber it was queued for has taken it (handed
it to gRPC), so a subscriber that keeps up loses nothing and the game stands still meanwhile.
Real-time: publishing never waits; a subscriber whose queue is full loses its oldest queued message,
counted and logged. The last message of a run has finished = true, is waited for in both modes (for
at most FINISH_GRACE_S) and ends every stream.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Iterator

import grpc

from tensorkart_core.proto.v1 import simulator_pb2, simulator_pb2_grpc

log = logging.getLogger(__name__)
REALTIME_QUEUE = 30
FINISH_GRACE_S = 5.0


class _Subscriber:
    def __init__(self, ident: int) -> None:
        self.ident = ident
        # (serial number, message): messages are numbered by the feed, so frameless ones count too.
        self.queue: collections.deque[tuple[int, simulator_pb2.SimFrame]] = collections.deque()
        self.taken = 0  # serial number of the last message handed to gRPC
        self.dropped = 0
        self.active = True


class FrameFeed:
    """Fan-out of SimFrame messages; `on_drop` is called once per message a slow subscriber loses."""

    def __init__(
        self, lockstep: bool, queue_size: int = REALTIME_QUEUE, on_drop: Callable[[], None] | None = None
    ) -> None:
        self.lockstep = lockstep
        self.queue_size = queue_size
        self.on_drop = on_drop
        self._cond = threading.Condition()
        self._subscribers: list[_Subscriber] = []
        self._next_id = 0
        self._serial = 0  # messages published so far
        self._closed = False
        self.total_dropped = 0

    # --- the game's side -------------------------------------------------------------------
    def subscriber_count(self) -> int:
        with self._cond:
            return sum(1 for s in self._subscribers if s.active)

    def wait_for_subscriber(self, stop: threading.Event | None = None) -> bool:
        """Block until a subscriber is connected (False if `stop` is set first)."""
        with self._cond:
            while not any(s.active for s in self._subscribers):
                if stop is not None and stop.is_set():
                    return False
                self._cond.wait(0.2)
        return True

    def publish(self, message: simulator_pb2.SimFrame, stop: threading.Event | None = None) -> None:
        """Queue `message` for every subscriber; in lock-step wait until each has taken it."""
        with self._cond:
            self._serial += 1
            number = self._serial
            # Only those who were sent this message are waited for (one joining meanwhile starts with the next).
            targets = [sub for sub in self._subscribers if sub.active]
            for sub in targets:
                if not self.lockstep and len(sub.queue) >= self.queue_size:
                    sub.queue.popleft()
                    self._dropped(sub)
                sub.queue.append((number, message))
            self._cond.notify_all()
            if not (self.lockstep or message.finished):
                return
            # The last message is waited for in both modes, for at most FINISH_GRACE_S, so a run's end
            # reaches every subscriber before the server stops, and a stuck one cannot hang it.
            deadline = time.monotonic() + FINISH_GRACE_S if message.finished else None
            while any(s.active and s.taken < number for s in targets):
                if deadline is None and stop is not None and stop.is_set():
                    return
                if deadline is not None and time.monotonic() >= deadline:
                    log.warning("feed: a subscriber did not take the final message within %.0f s", FINISH_GRACE_S)
                    return
                self._cond.wait(0.5)

    def _dropped(self, sub: _Subscriber) -> None:
        sub.dropped += 1
        self.total_dropped += 1
        if self.on_drop is not None:
            self.on_drop()
        if sub.dropped in (1, 10, 100) or sub.dropped % 1000 == 0:
            log.warning("feed subscriber %d is falling behind: %d frames lost", sub.ident, sub.dropped)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # --- the gRPC side ---------------------------------------------------------------------
    def _subscribe(self) -> _Subscriber:
        with self._cond:
            sub = _Subscriber(self._next_id)
            self._next_id += 1
            self._subscribers.append(sub)
            self._cond.notify_all()
            log.info("feed subscriber %d connected", sub.ident)
            return sub

    def _unsubscribe(self, sub: _Subscriber) -> None:
        with self._cond:
            if sub.active:
                sub.active = False
                self._subscribers.remove(sub)
                self._cond.notify_all()
                log.info("feed subscriber %d left (%d frames lost)", sub.ident, sub.dropped)

    def stream(self, context: grpc.ServicerContext) -> Iterator[simulator_pb2.SimFrame]:
        """The messages for one subscriber, from the next one published until the last (finished)."""
        sub = self._subscribe()
        context.add_callback(lambda: self._unsubscribe(sub))
        try:
            while True:
                with self._cond:
                    while not sub.queue and not self._closed and context.is_active():
                        self._cond.wait(0.5)
                    if not sub.queue:
                        return
                    number, message = sub.queue.popleft()
                yield message
                with self._cond:
                    sub.taken = number
                    self._cond.notify_all()
                if message.finished:
                    return
        finally:
            self._unsubscribe(sub)


class FeedServicer(simulator_pb2_grpc.SimulatorServicer):
    """tensorkart.v1.Simulator: StreamFrames serves `feed` to every caller."""

    def __init__(self, feed: FrameFeed) -> None:
        self.feed = feed

    def StreamFrames(
        self, request: simulator_pb2.StreamFramesRequest, context: grpc.ServicerContext
    ) -> Iterator[simulator_pb2.SimFrame]:
        yield from self.feed.stream(context)
