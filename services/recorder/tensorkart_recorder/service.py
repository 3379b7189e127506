"""The tensorkart.v1.Recorder gRPC service: Record streams in, datasets out, one ack per sample."""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Iterator

import grpc

from tensorkart_core.dataset import DatasetNameError, validate_name
from tensorkart_core.images import FrameError, decode_frame
from tensorkart_core.proto.v1 import recorder_pb2, recorder_pb2_grpc, types_pb2
from tensorkart_recorder import metrics
from tensorkart_recorder.sessions import DatasetExists, Session, SessionBusy, SessionRegistry

log = logging.getLogger(__name__)

OK = recorder_pb2.ACK_CODE_OK
INVALID = recorder_pb2.ACK_CODE_INVALID_ARGUMENT
INTERNAL = recorder_pb2.ACK_CODE_INTERNAL
SAVE_EVERY_S = 1.0
_END = object()


class SampleError(ValueError):
    """A sample that cannot be recorded; answered INVALID_ARGUMENT in its ack."""


def check_joystick(joystick: types_pb2.Joystick) -> None:
    for axis in ("x", "y"):
        value = getattr(joystick, axis)
        if not math.isfinite(value) or not -1.0 <= value <= 1.0:
            raise SampleError(f"joystick.{axis}={value} is outside [-1, 1]")


class RecorderService(recorder_pb2_grpc.RecorderServicer):
    def __init__(self, sessions: SessionRegistry) -> None:
        self.sessions = sessions

    def Record(self, request_iterator: Iterator[recorder_pb2.RecordRequest], context: grpc.ServicerContext):
        try:
            first = next(request_iterator)
        except StopIteration:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "empty stream: the first message must carry `start`")
        if first.WhichOneof("body") != "start":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the first message must carry `start` (SessionStart)")
        try:
            session = self.sessions.open(first.start)
        except DatasetNameError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        except DatasetExists as error:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, str(error))
        except SessionBusy as error:
            context.abort(grpc.StatusCode.ABORTED, str(error))
        except OSError as error:
            context.abort(grpc.StatusCode.INTERNAL, f"cannot open dataset {first.start.name!r}: {error}")
        metrics.LIVE_SESSIONS.inc()
        log.info("%s: recording to %s (%s)", session.name, session.relpath, "resume" if first.start.resume else "new")
        acks: queue.SimpleQueue = queue.SimpleQueue()
        receiver = threading.Thread(
            target=self._receive, args=(request_iterator, session, acks), name=f"recv-{session.name}", daemon=True
        )
        receiver.start()
        yield recorder_pb2.RecordAck(frame_sequence=0, code=OK, summary=session.summary())
        while True:
            ack = acks.get()
            if ack is _END:
                break
            yield ack
        summary = session.summary()
        log.info(
            "%s: stream ended: received %d, written %d, rejected %d, dropped by the client %d",
            session.name,
            summary.frames_received,
            summary.frames_written,
            summary.frames_rejected,
            summary.frames_dropped,
        )
        yield recorder_pb2.RecordAck(frame_sequence=0, code=OK, final=True, summary=summary)

    def _receive(self, requests: Iterator[recorder_pb2.RecordRequest], session: Session, acks: queue.SimpleQueue):
        """Read samples until the client half-closes (or the stream breaks), then finish the session."""
        last_save = time.monotonic()
        try:
            for request in requests:
                self._accept(request, session, acks)
                if time.monotonic() - last_save >= SAVE_EVERY_S:
                    session.save()
                    last_save = time.monotonic()
        except grpc.RpcError as error:
            log.warning("%s: stream broke (%s); keeping what arrived", session.name, error.code())
        except Exception:
            log.exception("%s: receiving failed; keeping what arrived", session.name)
        finally:
            try:
                self.sessions.close(session)
            except Exception:
                log.exception("%s: closing the session failed", session.name)
            metrics.LIVE_SESSIONS.dec()
            acks.put(_END)

    def _accept(self, request: recorder_pb2.RecordRequest, session: Session, acks: queue.SimpleQueue) -> None:
        if request.WhichOneof("body") == "end":
            session.end_of_stream(request.end.frames_dropped)
            return
        metrics.FRAMES_RECEIVED.inc()
        session.received += 1
        sequence = request.sample.frame.sequence if request.WhichOneof("body") == "sample" else 0
        try:
            if request.WhichOneof("body") != "sample":
                raise SampleError("after `start`, every message must carry one `sample`")
            sample = request.sample
            if not sample.HasField("frame"):
                raise SampleError("sample has no frame")
            if session.last_sequence is not None and sequence <= session.last_sequence:
                raise SampleError(f"frame sequence {sequence} is not after {session.last_sequence}")
            rgb = decode_frame(sample.frame)
            check_joystick(sample.joystick)
        except (SampleError, FrameError) as error:
            session.rejected += 1
            metrics.FRAMES_REJECTED.inc()
            acks.put(recorder_pb2.RecordAck(frame_sequence=sequence, code=INVALID, error=str(error)))
            return
        session.note_sequence(sequence)
        if session.resolution is None:
            session.resolution = f"{rgb.shape[1]}x{rgb.shape[0]}"
        joystick = sample.joystick

        def done(error: str | None, sequence: int = sequence) -> None:
            if error is None:
                acks.put(recorder_pb2.RecordAck(frame_sequence=sequence, code=OK))
            else:
                acks.put(recorder_pb2.RecordAck(frame_sequence=sequence, code=INTERNAL, error=error))

        session.writer.submit(rgb, joystick.x, joystick.y, int(joystick.a), int(joystick.b), int(joystick.rb), done)

    def GetSession(self, request: recorder_pb2.GetSessionRequest, context: grpc.ServicerContext):
        try:
            name = validate_name(request.name)
        except DatasetNameError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        live = self.sessions.live(name)
        if live is not None:
            return live.summary()
        saved = self.sessions.saved_summary(name)
        if saved is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no session named {name!r}")
        return saved
