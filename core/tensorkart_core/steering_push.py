"""Steering to a controller over one long-lived PushSteering stream, re-opened when it breaks.

The edge relay delivers all steering to its controller through it (human steering, and every
model answer it receives from inference): one writer per pad. The stream runs on the shared
resilient-stream helper (one channel for the pusher's lifetime, only the call re-opened).
`Mailbox` is the bounded hand-off between the thread that has a message and the gRPC thread that
sends it; the oldest message is dropped when it is full, because older steering is worthless
once newer exists.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterator

import grpc

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.proto.v1 import controller_pb2_grpc, types_pb2
from tensorkart_core.resilient_stream import Attempt, ResilientStream

log = logging.getLogger(__name__)

CLOSE = object()


class Mailbox:
    """A bounded FIFO between threads: the oldest item is dropped (and counted) when full."""

    def __init__(self, size: int) -> None:
        self._items: deque = deque()
        self._size = size
        self._cond = threading.Condition()
        self.dropped = 0

    def put(self, item: object) -> None:
        with self._cond:
            if len(self._items) >= self._size:
                self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            self._cond.notify()

    def put_front(self, item: object) -> None:
        with self._cond:
            self._items.appendleft(item)
            self._cond.notify()

    def get(self, timeout: float) -> object | None:
        with self._cond:
            if not self._items and not self._cond.wait(timeout):
                return None
            return self._items.popleft() if self._items else None

    def pending(self) -> bool:
        with self._cond:
            return bool(self._items)

    def take(self, attempt: Attempt) -> Iterator[object]:
        """Items for one stream attempt, until CLOSE or the attempt dies; an item taken
        just as the attempt died goes back to the front for the next attempt."""
        while not attempt.dead:
            item = self.get(0.1)
            if item is None:
                continue
            if item is CLOSE:
                return
            if attempt.dead:
                self.put_front(item)
                return
            yield item

    def clear(self) -> int:
        with self._cond:
            count = len(self._items)
            self._items.clear()
            return count


class SteeringPusher:
    """One PushSteering stream to the controller at `address`, re-opened with exponential
    backoff when it breaks. `push` never blocks; `sent` counts messages handed to the stream."""

    def __init__(
        self,
        address: str,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 2.0,
        drain_timeout_s: float = 3.0,
        queue_size: int = 8,
    ) -> None:
        self.address = address
        self.sent = 0
        self._drain_timeout_s = drain_timeout_s
        self._mailbox = Mailbox(queue_size)
        self._stream = ResilientStream(
            lambda: make_channel(address), self._push, f"push-{address}", backoff_initial_s, backoff_max_s
        )

    @property
    def connected(self) -> bool:
        return self._stream.connected.is_set()

    @property
    def reconnects(self) -> int:
        return self._stream.reconnects

    def start(self) -> SteeringPusher:
        self._stream.start()
        return self

    def push(self, steering: types_pb2.Steering) -> bool:
        """Queue `steering` for the stream; False when the stream is down right now (the
        message is still queued and goes out if it reconnects before newer steering)."""
        self._mailbox.put(steering)
        return self.connected

    def close(self) -> None:
        """Send what is queued (bounded by the drain timeout), then end the stream."""
        self._stream.closing = True
        self._mailbox.put(CLOSE)
        self._stream.join(self._drain_timeout_s)
        self._stream.close()

    def _requests(self, attempt: Attempt) -> Iterator[types_pb2.Steering]:
        for item in self._mailbox.take(attempt):
            self.sent += 1
            attempt.made_progress = True
            yield item

    def _push(self, channel: grpc.Channel, attempt: Attempt) -> None:
        call = controller_pb2_grpc.ControllerStub(channel).PushSteering.future(
            self._requests(attempt), wait_for_ready=True
        )
        attempt.call = call
        call.result()
