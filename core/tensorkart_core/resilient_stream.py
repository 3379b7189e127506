"""One long-lived gRPC stream to a server, re-opened when it breaks: the edge's reconnect loop.

Used by the relay's Drive stream to inference, the steering pusher's PushSteering stream to a
controller, and meant for the recorder streamer too. The channel is made once and lives as long
as the loop: gRPC itself reconnects it with backoff (and, behind a `dns:///` name with
round_robin, spreads calls over the resolved replicas); only the call is re-opened. Each call is
made by `open_call(channel, attempt)`, which blocks until the call ends and makes it with
`wait_for_ready=True`, so a call opened while the link is down waits for it instead of failing.
A call that ended in an error is re-opened after an exponential backoff. RESOURCE_EXHAUSTED (a
replica at its stream cap) is the one error after which the channel is replaced: behind a
connection balancer (a ClusterIP or LoadBalancer Service) a new connection may reach another
replica, while behind `dns:///` + round_robin the next call already goes to the next replica.
A call that ended normally ends the loop when `closing` is set, else is re-opened at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection

import grpc

log = logging.getLogger(__name__)

CONNECT_POLL_S = 0.5  # how often a loop waiting for its channel checks whether it should stop
NEW_CHANNEL_ON = frozenset({grpc.StatusCode.RESOURCE_EXHAUSTED})


class Attempt:
    """One call's lifetime: producers of a dead attempt stop handing it items; `call` (when the
    opener stores it) is cancelled when the loop closes."""

    def __init__(self) -> None:
        self.dead = False
        self.call: grpc.Future | grpc.Call | None = None
        self.made_progress = False  # the opener says the call carried messages: reset the backoff


class ResilientStream:
    """Runs `open_call` on one channel (made by `make_channel`) until closed, re-opening the call
    whenever it ends."""

    def __init__(
        self,
        make_channel: Callable[[], grpc.Channel],
        open_call: Callable[[grpc.Channel, Attempt], None],
        name: str,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 2.0,
        on_call_end: Callable[[Attempt], None] = lambda _attempt: None,
        new_channel_on: Collection[grpc.StatusCode] = NEW_CHANNEL_ON,
    ) -> None:
        self._make_channel = make_channel
        self._new_channel_on = new_channel_on
        self.channel = make_channel()
        self.name = name
        self.connected = threading.Event()  # a call is open on a ready channel
        self.reconnects = 0
        self.last_error: grpc.StatusCode | None = None
        self.closing = False  # set by the owner before it ends its request stream for good
        self._open_call = open_call
        self._on_call_end = on_call_end
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._stop = threading.Event()
        self._attempt: Attempt | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> ResilientStream:
        self._thread.start()
        return self

    def join(self, timeout: float) -> bool:
        """Wait for the loop to end by itself (the owner set `closing` and ended its requests)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self, timeout: float = 2.0) -> None:
        """Stop now: cancel the open call, end the loop, close the channel."""
        self.closing = True
        self._stop.set()
        attempt = self._attempt
        if attempt is not None and attempt.call is not None:
            attempt.call.cancel()
        self._thread.join(timeout)
        self.channel.close()

    def _wait_ready(self) -> bool:
        """Wait (without a new channel) until the channel connects; False when stopped or
        closing first (nothing can be delivered on a link that never came up)."""
        while not self._stop.is_set() and not self.closing:
            try:
                grpc.channel_ready_future(self.channel).result(timeout=CONNECT_POLL_S)
                return True
            except grpc.FutureTimeoutError:
                continue
        return False

    def _run(self) -> None:
        initial, most = self._backoff
        delay = initial
        while not self._stop.is_set():
            if not self._wait_ready():
                return
            attempt = self._attempt = Attempt()
            broke = False
            try:
                self.connected.set()
                self._open_call(self.channel, attempt)
                self.last_error = None
            except grpc.RpcError as error:
                broke = True
                self.last_error = error.code()
                if not self._stop.is_set():
                    log.warning("%s: stream broke (%s: %s); re-opening", self.name, error.code().name, error.details())
            finally:
                attempt.dead = True
                self.connected.clear()
                self._on_call_end(attempt)
            if self.closing or self._stop.is_set():
                return
            self.reconnects += 1
            if attempt.made_progress:
                delay = initial
            if broke:
                self._stop.wait(delay)
                delay = min(most, delay * 2)
                if self.last_error in self._new_channel_on and not self._stop.is_set():
                    self.channel.close()
                    self.channel = self._make_channel()
