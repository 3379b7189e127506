"""The tensorkart.v1.Recorder gRPC service (grpc.aio): Record streams in, datasets out, one ack per sample."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import grpc

from tensorkart_core.datasets import DatasetNameError, validate_name
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
T = TypeVar("T")


class SampleError(ValueError):
    """A sample that cannot be recorded; answered INVALID_ARGUMENT in its ack."""


def check_joystick(joystick: types_pb2.Joystick) -> None:
    for axis in ("x", "y"):
        value = getattr(joystick, axis)
        if not math.isfinite(value) or not -1.0 <= value <= 1.0:
            raise SampleError(f"joystick.{axis}={value} is outside [-1, 1]")


class RecorderService(recorder_pb2_grpc.RecorderServicer):
    """Record streams on grpc.aio: an open stream is a coroutine, not a thread.

    Everything that touches the disk or the CPU (opening a dataset, decoding a frame, handing it to
    the writer, which blocks while the stream has `max_pending` frames being written, saving
    session.json, closing) runs in `executor`, never on the event loop, so health and reflection
    stay prompt however many streams are open."""

    def __init__(self, sessions: SessionRegistry, executor: ThreadPoolExecutor, max_streams: int = 256) -> None:
        self.sessions = sessions
        self.executor = executor
        self.max_streams = max_streams
        self.open_streams = 0  # only touched on the event loop
        self._finishing: set[asyncio.Task] = set()

    async def _off_loop(self, function: Callable[..., T], *args: object) -> T:
        """Run `function` in the executor; a cancelled caller still waits for it to finish, so a
        frame handed to the writer is never half-accepted when a stream is torn down."""
        future = asyncio.get_running_loop().run_in_executor(self.executor, function, *args)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait({future})
            raise

    async def Record(
        self, request_iterator: AsyncIterator[recorder_pb2.RecordRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[recorder_pb2.RecordAck]:
        if self.open_streams >= self.max_streams:
            metrics.STREAMS_REFUSED.inc()
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"this recorder serves its limit of {self.max_streams} Record streams (RECORDER_MAX_STREAMS): "
                "back off and retry",
            )
        self.open_streams += 1
        try:
            async for ack in self._record(request_iterator, context):
                yield ack
        finally:
            self.open_streams -= 1

    async def _record(
        self, request_iterator: AsyncIterator[recorder_pb2.RecordRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[recorder_pb2.RecordAck]:
        first = await anext(aiter(request_iterator), None)
        if first is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "empty stream: the first message must carry `start`")
        if first.WhichOneof("body") != "start":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the first message must carry `start` (SessionStart)")
        try:
            session = await self._off_loop(self.sessions.open, first.start)
        except DatasetNameError as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        except DatasetExists as error:
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, str(error))
        except SessionBusy as error:
            await context.abort(grpc.StatusCode.ABORTED, str(error))
        except OSError as error:
            await context.abort(grpc.StatusCode.INTERNAL, f"cannot open dataset {first.start.name!r}: {error}")
        metrics.LIVE_SESSIONS.inc()
        log.info("%s: recording to %s (%s)", session.name, session.relpath, "resume" if first.start.resume else "new")
        loop = asyncio.get_running_loop()
        acks: asyncio.Queue = asyncio.Queue()

        def send(ack: object) -> None:  # from the executor and the writer's threads
            # RuntimeError: the loop is gone (the process is exiting), nobody is listening.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(acks.put_nowait, ack)

        receiver = asyncio.create_task(self._receive(request_iterator, session, send))
        # The receiver outlives a cancelled call until its session is closed; keep it referenced.
        self._finishing.add(receiver)
        receiver.add_done_callback(self._finishing.discard)
        try:
            yield recorder_pb2.RecordAck(frame_sequence=0, code=OK, summary=session.summary())
            while (ack := await acks.get()) is not _END:
                yield ack
        finally:
            if not receiver.done():  # the call was cancelled or broke: stop reading, keep what arrived
                receiver.cancel()
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

    async def _receive(
        self, requests: AsyncIterator[recorder_pb2.RecordRequest], session: Session, send: Callable[[object], None]
    ) -> None:
        """Read samples until the client half-closes (or the stream breaks), then finish the session."""
        last_save = time.monotonic()
        try:
            async for request in requests:
                await self._off_loop(self._accept, request, session, send)
                if time.monotonic() - last_save >= SAVE_EVERY_S:
                    await self._off_loop(session.save)
                    last_save = time.monotonic()
        except asyncio.CancelledError:
            log.warning("%s: stream cancelled; keeping what arrived", session.name)
        except grpc.RpcError as error:
            log.warning("%s: stream broke (%s); keeping what arrived", session.name, error.code())
        except Exception:
            log.exception("%s: receiving failed; keeping what arrived", session.name)
        finally:
            try:
                await self._off_loop(self.sessions.close, session)
            except Exception:
                log.exception("%s: closing the session failed", session.name)
            metrics.LIVE_SESSIONS.dec()
            send(_END)

    def _accept(self, request: recorder_pb2.RecordRequest, session: Session, send: Callable[[object], None]) -> None:
        """Check one message and hand its frame to the writer (in the executor: decoding and
        back-pressure block)."""
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
            send(recorder_pb2.RecordAck(frame_sequence=sequence, code=INVALID, error=str(error)))
            return
        mark = session.mark(sequence, sample.frame.capture_time_ns, sample.joystick.lb)
        session.note_sequence(sequence)
        if session.resolution is None:
            session.resolution = f"{rgb.shape[1]}x{rgb.shape[0]}"
        joystick = sample.joystick

        def done(error: str | None, sequence: int = sequence) -> None:
            if error is None:
                send(recorder_pb2.RecordAck(frame_sequence=sequence, code=OK))
            else:
                send(recorder_pb2.RecordAck(frame_sequence=sequence, code=INTERNAL, error=error))

        session.writer.submit(
            rgb, joystick.x, joystick.y, int(joystick.a), int(joystick.b), int(joystick.rb), done, mark=mark
        )

    async def GetSession(
        self, request: recorder_pb2.GetSessionRequest, context: grpc.aio.ServicerContext
    ) -> recorder_pb2.SessionSummary:
        try:
            name = validate_name(request.name)
        except DatasetNameError as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        live = self.sessions.live(name)
        if live is not None:
            return live.summary()
        saved = await self._off_loop(self.sessions.saved_summary, name)
        if saved is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no session named {name!r}")
        return saved
