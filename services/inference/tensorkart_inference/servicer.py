"""The tensorkart.v1.Inference servicer on grpc.aio: frames in, steering out.

An open Drive stream is two coroutines, not a thread: a reader that takes each frame off the
wire the moment it arrives (so its receive time is true, staleness.py), and the handler that
answers them in order. The model runs in `executor` (a few threads: the LiteRT interpreters,
or the TensorFlow batcher's callers), never on the event loop, so health checks, reflection and
other streams' messages are served between frames however many streams are open.

Predict: one frame, one Steering; a malformed frame aborts the call with INVALID_ARGUMENT
naming the problem; no model loaded -> FAILED_PRECONDITION.

Drive (one stream per emulator): every frame is answered by exactly one Steering naming it
(frame_sequence, capture_time_ns echoed), in order. A frame whose absolute age (capture time
mapped onto this server's clock, staleness.EdgeClock) exceeds INFERENCE_STALE_MS when its turn
comes is answered stale (neutral, not run through the model), so a server that fell behind
catches up instead of steering from the past. A malformed frame does not end the stream: it is
answered neutral + stale with error_code INVALID_FRAME, and the next frame is served normally.
A frame pre-processed at the edge for another spec than the served model's (a hot swap) is
answered with error_code SPEC_MISMATCH and the spec id served now (the previous model answers
such frames for a few seconds after the swap). No model loaded ends the stream with
FAILED_PRECONDITION "no active model" (the relay retries). Past INFERENCE_MAX_STREAMS open
streams a new one is refused with RESOURCE_EXHAUSTED: the edge backs off / tries another replica.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import Executor

import grpc

from tensorkart_core.images import FrameError
from tensorkart_core.proto.v1 import inference_pb2, inference_pb2_grpc, types_pb2
from tensorkart_inference import metrics
from tensorkart_inference.frames import NO_MODEL, NoModelError, SpecMismatch, run_frame
from tensorkart_inference.hotswap import ModelHolder
from tensorkart_inference.staleness import EdgeClock
from tensorkart_inference.steering import neutral_answer

log = logging.getLogger(__name__)

DRIVE_FRAMES = {
    result: metrics.FRAMES.labels("Drive", result) for result in ("ok", "stale", "invalid", "spec_mismatch")
}
END = None  # the reader's end-of-stream marker


class InferenceServicer(inference_pb2_grpc.InferenceServicer):
    """Serves whatever model `holder` holds at the moment each frame is run."""

    def __init__(self, holder: ModelHolder, stale_ms: float, executor: Executor, max_streams: int = 256) -> None:
        self.holder = holder
        self.stale_ns = int(stale_ms * 1e6)
        self.executor = executor
        self.max_streams = max_streams
        self.open_streams = 0

    async def _run(self, frame: types_pb2.Frame) -> types_pb2.Steering:
        return await asyncio.get_running_loop().run_in_executor(self.executor, run_frame, frame, self.holder)

    async def Predict(self, request: inference_pb2.PredictRequest, context: grpc.aio.ServicerContext):
        try:
            answer = await self._run(request.frame)
        except FrameError as error:
            metrics.FRAMES.labels("Predict", "invalid").inc()
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        except NoModelError:
            metrics.FRAMES.labels("Predict", "no_model").inc()
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, NO_MODEL)
        metrics.FRAMES.labels("Predict", "ok").inc()
        return answer

    async def Drive(
        self, request_iterator: AsyncIterator[types_pb2.Frame], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[types_pb2.Steering]:
        if self.open_streams >= self.max_streams:
            metrics.REFUSED_STREAMS.inc()
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"this replica serves its limit of {self.max_streams} Drive streams (INFERENCE_MAX_STREAMS): "
                "back off and retry, another replica may take it",
            )
        self.open_streams += 1
        metrics.OPEN_STREAMS.inc()
        clock = EdgeClock()
        inbox: asyncio.Queue[types_pb2.Frame | None] = asyncio.Queue()
        reader = asyncio.create_task(self._read(request_iterator, clock, inbox))
        try:
            while (frame := await inbox.get()) is not END:
                answer, result = await self._answer(frame, clock, context)
                yield answer
                DRIVE_FRAMES[result].inc()
        finally:
            reader.cancel()
            self.open_streams -= 1
            metrics.OPEN_STREAMS.dec()

    @staticmethod
    async def _read(frames: AsyncIterator[types_pb2.Frame], clock: EdgeClock, inbox: asyncio.Queue) -> None:
        """Each frame off the wire as it arrives, its arrival noted on the edge clock."""
        try:
            async for frame in frames:
                clock.observe(frame.capture_time_ns, time.monotonic_ns())
                inbox.put_nowait(frame)
        except (grpc.RpcError, asyncio.CancelledError):
            pass  # a cancelled or broken stream just ends (the edge reconnects)
        finally:
            inbox.put_nowait(END)

    async def _answer(
        self, frame: types_pb2.Frame, clock: EdgeClock, context: grpc.aio.ServicerContext
    ) -> tuple[types_pb2.Steering, str]:
        if clock.age_ns(frame.capture_time_ns, time.monotonic_ns()) > self.stale_ns:
            return neutral_answer(frame), "stale"
        try:
            return await self._run(frame), "ok"
        except SpecMismatch as error:
            answer = neutral_answer(frame, str(error), types_pb2.STEERING_ERROR_SPEC_MISMATCH, error.serving_spec_id)
            return answer, "spec_mismatch"
        except FrameError as error:
            log.warning("Drive: %s", error)
            return neutral_answer(frame, str(error), types_pb2.STEERING_ERROR_INVALID_FRAME), "invalid"
        except NoModelError:
            metrics.FRAMES.labels("Drive", "no_model").inc()
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, NO_MODEL)
            raise  # unreachable: abort raises

    async def GetModelInfo(self, request: inference_pb2.GetModelInfoRequest, context: grpc.aio.ServicerContext):
        model = self.holder.current
        if model is None:
            detail = NO_MODEL + (f" (last load failure: {self.holder.last_error})" if self.holder.last_error else "")
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, detail)
        return types_pb2.ModelInfo(
            version=model.version,
            outputs=model.outputs,
            preprocess_json=model.spec.to_json(),
            preprocess_id=model.spec_id,
            backend=model.backend,
        )
