"""The tensorkart.v1.Inference servicer on grpc.aio: frames in, steering out.

An open Drive stream is two coroutines, not a thread: a reader that takes each frame off the
wire the moment it arrives (so its receive time is true, staleness.py), and the handler that
answers them in order. Frames run in `executor` (the LiteRT interpreters' or the TensorFlow
model's threads), never on the event loop, so health checks, reflection and other streams'
messages are served between frames however many streams are open. Frames of concurrent streams
that wait at the same time go to the model threads together (loop_batch.LoopBatcher: one
hand-off per batch, not per frame; at most INFERENCE_INTERPRETERS batches of INFERENCE_BATCH_MAX
frames run at once), so the CPU a frame costs falls under load instead of rising.

One exception saves the thread hand-off (~0.3 ms of CPU per frame, measured) on the play loop's
path: when no other frame is running or waiting on any stream, the frame was pre-processed at
the edge (a full frame's resize costs milliseconds) and the model is a fast LiteRT one (quickest
warm-up invoke below INFERENCE_INLINE_BELOW_MS; the int8 PilotNet takes ~0.15 ms on a quiet
core), the frame runs on the loop itself. The loop is then held for one such invoke at most,
and frames arriving meanwhile go to the executor. Under load (frames waiting) every frame goes
to the executor: the loop stays free to take frames off the wire on time (their receive times
feed the staleness estimate; measured: inlining whenever no frame was running made 64
overloaded streams answer 1.4 s late instead of stale), many streams spread over the
interpreters, and health waits for one short invoke at worst.

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
from tensorkart_inference.frames import NO_MODEL, NoModelError, SpecMismatch, run_frame, run_frames
from tensorkart_inference.hotswap import ModelHolder
from tensorkart_inference.loop_batch import LoopBatcher
from tensorkart_inference.models import ServedModel
from tensorkart_inference.staleness import EdgeClock
from tensorkart_inference.steering import neutral_answer

log = logging.getLogger(__name__)

DRIVE_FRAMES = {
    result: metrics.FRAMES.labels("Drive", result) for result in ("ok", "stale", "invalid", "spec_mismatch")
}
END = None  # the reader's end-of-stream marker


class InferenceServicer(inference_pb2_grpc.InferenceServicer):
    """Serves whatever model `holder` holds at the moment each frame is run."""

    def __init__(
        self,
        holder: ModelHolder,
        stale_ms: float,
        executor: Executor,
        max_streams: int = 256,
        inline_below_ms: float = 1.0,
        batch_jobs: int = 2,
        max_batch: int = 8,
    ) -> None:
        self.holder = holder
        self.stale_ns = int(stale_ms * 1e6)
        self.executor = executor
        self.max_streams = max_streams
        self.inline_below_s = inline_below_ms / 1e3
        self.open_streams = 0
        self.running = 0  # frames in the executor now
        self.waiting = 0  # frames received on any stream, not yet taken by their stream's handler
        self.batcher = LoopBatcher(executor, lambda frames: run_frames(frames, holder), batch_jobs, max_batch)

    def runs_inline(self, model: ServedModel | None) -> bool:
        """Whether frames for `model` may run on the event loop when nothing else runs."""
        return model is not None and model.can_run_inline and model.warm_invoke_s < self.inline_below_s

    async def _run(self, frame: types_pb2.Frame) -> types_pb2.Steering:
        idle = not self.running and not self.waiting
        if idle and frame.preprocess_id and self.runs_inline(self.holder.current):
            return run_frame(frame, self.holder)  # an interpreter is free: none is borrowed
        self.running += 1
        try:
            return await self.batcher.run(frame)
        finally:
            self.running -= 1

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
                self.waiting -= 1
                answer, result = await self._answer(frame, clock, context)
                yield answer
                DRIVE_FRAMES[result].inc()
        finally:
            reader.cancel()
            while not inbox.empty():  # frames left when the stream ended are no longer waiting
                self.waiting -= inbox.get_nowait() is not END
            self.open_streams -= 1
            metrics.OPEN_STREAMS.dec()

    async def _read(self, frames: AsyncIterator[types_pb2.Frame], clock: EdgeClock, inbox: asyncio.Queue) -> None:
        """Each frame off the wire as it arrives, its arrival noted on the edge clock."""
        try:
            async for frame in frames:
                clock.observe(frame.capture_time_ns, time.monotonic_ns())
                inbox.put_nowait(frame)
                self.waiting += 1
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
