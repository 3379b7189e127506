"""The emulator's frame feed: tensorkart.v1.Simulator/StreamFrames, the same stream the practice track
serves, so capture, record, play and eval read the emulator like the practice track.

Lock-step: publishing frame n waits until every subscriber has taken it (nothing is lost, and the
emulator stands still meanwhile). Free-run: a subscriber whose queue is full loses its oldest frame,
counted. The last message (finished = true) ends every stream.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Iterator

import grpc

from tensorkart_core.proto.v1 import simulator_pb2, simulator_pb2_grpc
from tensorkart_emulator import metrics

log = logging.getLogger(__name__)
QUEUE = 30
FINISH_GRACE_S = 5.0


class _Subscriber:
    def __init__(self) -> None:
        self.queue: collections.deque[tuple[int, simulator_pb2.SimFrame]] = collections.deque()
        self.taken = -1
        self.active = True


class FrameFeed:
    def __init__(self, lockstep: bool) -> None:
        self.lockstep = lockstep
        self._cond = threading.Condition()
        self._subscribers: list[_Subscriber] = []
        self._closed = False
        self._serial = 0  # messages published so far (frameless final messages too)

    def wait_for_subscriber(self, stop: threading.Event) -> bool:
        with self._cond:
            while not self._subscribers:
                if stop.is_set():
                    return False
                self._cond.wait(0.2)
        return True

    def publish(self, message: simulator_pb2.SimFrame, stop: threading.Event) -> None:
        with self._cond:
            self._serial += 1
            number = self._serial
            targets = list(self._subscribers)
            for sub in targets:
                if not self.lockstep and len(sub.queue) >= QUEUE:
                    sub.queue.popleft()
                    metrics.FEED_DROPPED.inc()
                sub.queue.append((number, message))
            self._cond.notify_all()
            if not (self.lockstep or message.finished):
                return
            deadline = time.monotonic() + FINISH_GRACE_S if message.finished else None
            while any(sub.active and sub.taken < number for sub in targets):
                if deadline is None and stop.is_set():
                    return
                if deadline is not None and time.monotonic() >= deadline:
                    return
                self._cond.wait(0.5)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def stream(self, context: grpc.ServicerContext) -> Iterator[simulator_pb2.SimFrame]:
        sub = _Subscriber()
        with self._cond:
            self._subscribers.append(sub)
            self._cond.notify_all()

        def leave() -> None:
            with self._cond:
                if sub.active:
                    sub.active = False
                    self._subscribers.remove(sub)
                    self._cond.notify_all()

        context.add_callback(leave)
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
            leave()


class FeedServicer(simulator_pb2_grpc.SimulatorServicer):
    def __init__(self, feed: FrameFeed) -> None:
        self.feed = feed

    def StreamFrames(
        self, request: simulator_pb2.StreamFramesRequest, context: grpc.ServicerContext
    ) -> Iterator[simulator_pb2.SimFrame]:
        yield from self.feed.stream(context)
