"""Steering to a controller over one long-lived PushSteering stream, reopened when it breaks.

Both ends of the play loop that can deliver steering use it: the edge relay (human steering,
and model steering it forwards) and the inference server (model steering it pushes itself
when a Drive stream asks for direct delivery). `Mailbox` is the bounded hand-off between the
thread that has a message and the gRPC thread that sends it; the oldest message is dropped
when it is full, because older steering is worthless once newer exists.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections import deque
from collections.abc import Iterator

import grpc

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.proto.v1 import controller_pb2_grpc, types_pb2

log = logging.getLogger(__name__)

CLOSE = object()


def backoff(stop: threading.Event, delay: float, most: float) -> float:
    """Wait `delay` (or until `stop`), return the next delay: doubled, at most `most`."""
    stop.wait(delay)
    return min(most, delay * 2)


class Attempt:
    """One stream's lifetime: generators of a dead attempt stop taking items."""

    def __init__(self) -> None:
        self.dead = False


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
    """One PushSteering stream to the controller at `address`, reopened with exponential
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
        self.connected = False
        self.sent = 0
        self.reconnects = 0
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._drain_timeout_s = drain_timeout_s
        self._mailbox = Mailbox(queue_size)
        self._stop = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=f"push-{address}", daemon=True)

    def start(self) -> SteeringPusher:
        self._thread.start()
        return self

    def push(self, steering: types_pb2.Steering) -> bool:
        """Queue `steering` for the stream; False when the stream is down right now (the
        message is still queued and goes out if it reconnects before newer steering)."""
        self._mailbox.put(steering)
        return self.connected

    def close(self) -> None:
        """Send what is queued (bounded by the drain timeout), then end the stream."""
        self._closing = True
        self._mailbox.put(CLOSE)
        self._thread.join(self._drain_timeout_s)
        self._stop.set()
        self._thread.join(2.0)

    def _requests(self, attempt: Attempt) -> Iterator[types_pb2.Steering]:
        for item in self._mailbox.take(attempt):
            self.sent += 1
            yield item

    def _run(self) -> None:
        initial, most = self._backoff
        delay = initial
        while not self._stop.is_set():
            channel = make_channel(self.address)
            attempt = Attempt()
            try:
                grpc.channel_ready_future(channel).result(timeout=max(delay, 0.5))
                self.connected = True
                delay = initial
                controller_pb2_grpc.ControllerStub(channel).PushSteering(self._requests(attempt))
                if self._closing:
                    return
            except grpc.FutureTimeoutError:
                pass
            except grpc.RpcError as error:
                log.warning("controller %s: steering stream broke (%s); reconnecting", self.address, error.code().name)
            finally:
                attempt.dead = True
                self.connected = False
                channel.close()
            if self._closing:
                return
            self.reconnects += 1
            delay = backoff(self._stop, delay, most)


# Drive call metadata with which an edge asks the inference server to push each answer to
# its controller itself (one gRPC hop less than relaying it); see docs/play.md.
PUSH_CONTROLLER_KEY = "tensorkart-push-controller"
PUSH_PORT_KEY = "tensorkart-push-port"


def is_loopback_address(address: str) -> bool:
    """Is "host:port" (or "[v6]:port") on this host's loopback?"""
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
