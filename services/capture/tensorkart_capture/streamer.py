"""Streams samples to the recorder through a bounded queue; the capture loop never waits on the network.

`offer()` never blocks: when the queue is full (recorder slow or gone) the frame is
counted as dropped. Core's `ResilientStream` keeps one Record stream open on one channel for the
streamer's lifetime and re-opens only the call (with `wait_for_ready`, after an exponential
backoff) when it breaks, with resume=true so the same dataset continues; frames that were sent
but never acknowledged count as dropped too: nothing is lost
silently. `wait_started()` waits for the recorder's answer to the start of the session (a
taken name is refused there, before anything is captured). `close()` drains the queue, sends
the final drop count (EndOfStream), half-closes and returns the totals.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import grpc

from tensorkart_capture import metrics
from tensorkart_core.grpc_client import make_channel
from tensorkart_core.proto.v1 import recorder_pb2, recorder_pb2_grpc, types_pb2
from tensorkart_core.resilient_stream import Attempt, ResilientStream

log = logging.getLogger(__name__)

# Start-of-stream errors that retrying cannot fix.
FATAL_CODES = (
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNIMPLEMENTED,
)


@dataclass
class StreamStats:
    """Totals of one recording, from the capture side."""

    offered: int = 0
    sent: int = 0
    written: int = 0
    rejected: int = 0
    failed: int = 0
    dropped_queue_full: int = 0
    dropped_in_flight: int = 0
    dropped_at_close: int = 0
    reconnects: int = 0
    connected: bool = False

    @property
    def dropped(self) -> int:
        return self.dropped_queue_full + self.dropped_in_flight + self.dropped_at_close

    def to_dict(self) -> dict[str, int | bool]:
        return {**asdict(self), "dropped": self.dropped}


def reconnect_options(initial_s: float, most_s: float) -> list[tuple[str, int]]:
    """The channel's own reconnect backoff, capped like the call's: gRPC's default grows to 120 s,
    so a recorder back after a long outage would otherwise be found up to two minutes late
    (every frame captured meanwhile dropped)."""
    initial_ms, most_ms = max(1, int(initial_s * 1000)), max(1, int(most_s * 1000))
    return [
        ("grpc.initial_reconnect_backoff_ms", initial_ms),
        ("grpc.min_reconnect_backoff_ms", initial_ms),
        ("grpc.max_reconnect_backoff_ms", most_ms),
    ]


class RecorderUnavailable(RuntimeError):
    """The recorder refused the session for good (bad name, dataset exists, auth) or never answered."""

    def __init__(self, message: str, code: grpc.StatusCode | None = None, details: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.details = details


class _Attempt:
    """One Record stream: what it sent and has not had acknowledged yet."""

    def __init__(self) -> None:
        self.inflight: OrderedDict[int, None] = OrderedDict()
        self.dead = False
        self.started = False


class RecordingStreamer:
    """Sends samples for dataset `name` to the recorder at `address`."""

    def __init__(
        self,
        address: str,
        name: str,
        metadata: dict[str, str] | None = None,
        rate_hz: float = 0.0,
        queue_size: int = 64,
        resume: bool = False,
        token: str | None = None,
        backoff_initial: float = 0.1,
        backoff_max: float = 2.0,
        contiguous: bool = False,
    ) -> None:
        """contiguous: every captured frame is offered, numbered 1, 2, 3, ... (the record path), so the
        recorder counts a gap in the sequence as a dropped frame; False for sparse streams."""
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.address = address
        self.name = name
        self.metadata = dict(metadata or {})
        self.capture_id = uuid.uuid4().hex
        self.rate_hz = rate_hz
        self.queue_size = queue_size
        self.resume = resume
        self.token = token
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.contiguous = contiguous
        self.stats = StreamStats()
        self.summary: recorder_pb2.SessionSummary | None = None
        self.error: str | None = None
        self.refusal: RecorderUnavailable | None = None
        self._accepted = False
        self.rejections: list[str] = []
        self._queue: deque[recorder_pb2.RecordRequest] = deque()
        self._dropped_sequences: list[int] = []
        self._cond = threading.Condition()
        self._closing = False
        self._give_up = threading.Event()
        self._answered = threading.Event()
        self._attempt: _Attempt | None = None
        self._ever_started = False
        self._started = False
        self._stream = ResilientStream(
            lambda: make_channel(address, token=token, extra_options=reconnect_options(backoff_initial, backoff_max)),
            self._open_call,
            "recorder-stream",
            backoff_initial_s=backoff_initial,
            backoff_max_s=backoff_max,
            on_call_end=self._call_ended,
        )

    # -- capture side -------------------------------------------------------------------------

    def start(self) -> RecordingStreamer:
        self._stream.start()
        self._started = True
        return self

    def wait_started(self, timeout: float = 10.0) -> None:
        """Block until the recorder accepted the session; raise RecorderUnavailable if it refused or never answered.

        Call it before capturing: a refused name then costs no frame.
        """
        if not self._answered.wait(timeout):
            raise RecorderUnavailable(f"the recorder at {self.address} did not answer within {timeout:.0f}s")
        if self.refusal is not None:
            raise self.refusal
        if not self._accepted:
            raise RecorderUnavailable(f"the recording stream to {self.address} ended before the recorder answered")

    def offer(self, sample: types_pb2.Sample | recorder_pb2.RecordRequest) -> bool:
        """Queue a sample for sending; False (counted as dropped) when the queue is full. Never blocks."""
        if isinstance(sample, types_pb2.Sample):
            sample = recorder_pb2.RecordRequest(sample=sample)
        with self._cond:
            self.stats.offered += 1
            if self._closing or self.error is not None or len(self._queue) >= self.queue_size:
                self.stats.dropped_queue_full += 1
                self._dropped_sequences.append(sample.sample.frame.sequence)
                metrics.FRAMES_DROPPED.labels("queue_full").inc()
                return False
            self._queue.append(sample)
            metrics.QUEUE_DEPTH.set(len(self._queue))
            self._cond.notify()
            return True

    def close(self, timeout: float = 30.0) -> StreamStats:
        """Send what is queued, end the stream, wait for the recorder's final totals (up to `timeout`)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._started and not self._stream.join(timeout):
            log.warning("recorder did not confirm the end of the stream within %.0fs", timeout)
        self._give_up.set()
        with self._cond:
            self._cond.notify_all()
        if self._started:
            self._stream.close(5.0)
        self._answered.set()
        with self._cond:
            if self._queue:
                lost = len(self._queue)
                self._dropped_sequences.extend(r.sample.frame.sequence for r in self._queue)
                self.stats.dropped_at_close += lost
                metrics.FRAMES_DROPPED.labels("at_close").inc(lost)
                self._queue.clear()
            if self._attempt is not None and self._attempt.inflight:
                self._lose_inflight(self._attempt, "at_close")
        return self.stats

    def snapshot(self) -> StreamStats:
        with self._cond:
            return StreamStats(**{k: v for k, v in asdict(self.stats).items()})

    @property
    def queued(self) -> int:
        with self._cond:
            return len(self._queue)

    # -- sender thread ------------------------------------------------------------------------

    def _requests(self, attempt: _Attempt, resume: bool) -> Iterator[recorder_pb2.RecordRequest]:
        with self._cond:
            dropped = self._reported_drops()
        start = recorder_pb2.SessionStart(
            name=self.name,
            resume=resume,
            metadata=self.metadata,
            rate_hz=self.rate_hz,
            capture_id=self.capture_id,
            frames_dropped=dropped,
            sequence_gaps_are_drops=self.contiguous,
        )
        yield recorder_pb2.RecordRequest(start=start)
        while True:
            with self._cond:
                # No sample leaves the queue before the recorder has accepted the session: a refused
                # start (a taken name, RESOURCE_EXHAUSTED at the stream cap) then loses no frame, and
                # the next attempt sends them.
                while (
                    not attempt.dead
                    and not self._give_up.is_set()
                    and (not attempt.started or (not self._queue and not self._closing))
                ):
                    self._cond.wait(0.5)
                if attempt.dead or self._give_up.is_set():
                    return
                if not self._queue:  # closing with an empty queue: the final drop count, then half-close
                    end = recorder_pb2.EndOfStream(frames_dropped=self.stats.dropped)
                    break
                request = self._queue.popleft()
                metrics.QUEUE_DEPTH.set(len(self._queue))
                attempt.inflight[request.sample.frame.sequence] = None
                self.stats.sent += 1
            metrics.FRAMES_SENT.inc()
            yield request
        yield recorder_pb2.RecordRequest(end=end)

    def _reported_drops(self) -> int:
        """Drops to report when a stream starts (caller holds self._cond).

        In a contiguous stream, a frame dropped after the one now at the head of the queue
        will show up to the recorder as a gap in the sequence numbers; report only the
        drops before it, so none is counted twice.
        """
        if not self.contiguous or not self._queue:
            return len(self._dropped_sequences)
        head = self._queue[0].sample.frame.sequence
        return sum(1 for sequence in self._dropped_sequences if sequence < head)

    def _lose_inflight(self, attempt: _Attempt, reason: str) -> None:
        """Caller holds self._cond."""
        lost = len(attempt.inflight)
        if lost:
            self._dropped_sequences.extend(attempt.inflight)
            self.stats.dropped_in_flight += lost
            metrics.FRAMES_DROPPED.labels(reason).inc(lost)
            attempt.inflight.clear()

    def _handle(self, attempt: _Attempt, ack: recorder_pb2.RecordAck) -> None:
        with self._cond:
            if ack.final:
                self.summary = ack.summary
                return
            if ack.frame_sequence == 0 and not attempt.started:
                attempt.started = True
                self.stats.connected = True
                metrics.CONNECTED.set(1)
                self._accepted = True
                self._answered.set()
                self._cond.notify_all()
                return
            attempt.inflight.pop(ack.frame_sequence, None)
            if ack.code == recorder_pb2.ACK_CODE_OK:
                self.stats.written += 1
                metrics.FRAMES_ACKED.inc()
            elif ack.code == recorder_pb2.ACK_CODE_INVALID_ARGUMENT:
                self.stats.rejected += 1
                metrics.FRAMES_REJECTED.inc()
                if len(self.rejections) < 20:
                    self.rejections.append(f"frame {ack.frame_sequence}: {ack.error}")
            else:
                self.stats.failed += 1
                metrics.FRAMES_DROPPED.labels("write_failed").inc()
                log.error("recorder could not write frame %d: %s", ack.frame_sequence, ack.error)

    def _open_call(self, channel: grpc.Channel, call_attempt: Attempt) -> None:
        """One Record stream on the shared channel (run by the ResilientStream loop until it ends)."""
        attempt = _Attempt()
        with self._cond:
            self._attempt = attempt
        resume = self.resume or self._ever_started
        try:
            call = recorder_pb2_grpc.RecorderStub(channel).Record(self._requests(attempt, resume), wait_for_ready=True)
            call_attempt.call = call
            for ack in call:
                self._handle(attempt, ack)
                if attempt.started and not self._ever_started:
                    self._ever_started = True
                    log.info("recording to %s at %s", self.name, self.address)
                call_attempt.made_progress = call_attempt.made_progress or attempt.started
            if self.summary is not None:
                self._stream.closing = True  # the recorder confirmed the end: the loop is done
            else:
                log.warning("recorder stream ended without its final totals; re-opening")
        except grpc.RpcError as error:
            code = error.code()
            if not attempt.started and code in FATAL_CODES and not (resume and self._ever_started):
                with self._cond:
                    self.error = f"recorder refused dataset {self.name!r}: {code.name}: {error.details()}"
                    self.refusal = RecorderUnavailable(self.error, code, error.details() or "")
                self._answered.set()
                self._stream.closing = True
                return
            raise
        finally:
            with self._cond:
                attempt.dead = True
                self._lose_inflight(attempt, "in_flight")
                self.stats.connected = False
                self._cond.notify_all()
            metrics.CONNECTED.set(0)

    def _call_ended(self, _attempt: Attempt) -> None:
        if self._stream.closing:
            self._answered.set()
            return
        with self._cond:
            self.stats.reconnects += 1
        metrics.RECONNECTS.inc()
