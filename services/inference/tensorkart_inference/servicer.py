"""The tensorkart.v1.Inference servicer: frames in, steering out.

Predict: one frame, one Steering; a malformed frame aborts the call with
INVALID_ARGUMENT naming the problem; no model loaded -> FAILED_PRECONDITION.

Drive (one stream per emulator): every frame is answered by exactly one Steering naming
it (frame_sequence, capture_time_ns echoed), in order. A frame that arrives more than
INFERENCE_STALE_MS later than the stream's quickest recent frame (staleness.py: capture
times are another host's clock, so only their differences are compared) is answered stale
(neutral, not run through the model), so a server that fell behind catches up instead of
steering from the past; the edge relay also drops frames it knows are old. A
malformed frame does not end the stream: it is answered neutral + stale with
`error = "INVALID_ARGUMENT: ..."`, and the next frame is served normally. No model loaded
ends the stream with FAILED_PRECONDITION "no active model" (the relay retries).

A frame pre-processed at the edge (Frame.preprocess_id = the served model's spec id) skips
pre-processing here; if a swap just changed the spec, the previous model answers it for a
few seconds (the relay re-reads GetModelInfo every second), later ones are refused with
"pre-processed for spec ...".

Direct delivery (push.py): a Drive call whose metadata names the edge's controller gets every
answer pushed there before it is returned, marked `pushed` (the relay then does not forward it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import grpc

from tensorkart_core.images import FrameError, decode_frame
from tensorkart_core.proto.v1 import inference_pb2, inference_pb2_grpc, types_pb2
from tensorkart_core.steering_push import PUSH_CONTROLLER_KEY, PUSH_PORT_KEY, SteeringPusher
from tensorkart_inference import metrics
from tensorkart_inference.hotswap import PREVIOUS_SPEC_GRACE_S, ModelHolder
from tensorkart_inference.models import ServedModel
from tensorkart_inference.push import PushRefused, PushTargets
from tensorkart_inference.staleness import ArrivalLag
from tensorkart_inference.steering import model_answer, neutral_answer

log = logging.getLogger(__name__)

NO_MODEL = "no active model"


DRIVE_FRAMES = {result: metrics.FRAMES.labels("Drive", result) for result in ("ok", "stale", "invalid")}


class NoModelError(RuntimeError):
    """Nothing is loaded yet (no active version in the registry, or it failed to load)."""


def _model_for(frame: types_pb2.Frame, holder: ModelHolder) -> ServedModel:
    current, previous = holder.models()
    if current is None:
        raise NoModelError(NO_MODEL)
    wanted = frame.preprocess_id
    if not wanted or wanted == current.spec_id:
        return current
    if (
        previous is not None
        and wanted == previous.spec_id
        and time.monotonic() - holder.swapped_at <= PREVIOUS_SPEC_GRACE_S
    ):
        return previous  # pre-processed just before a swap: the old model answers it
    raise FrameError(
        f"frame {frame.sequence}: pre-processed for spec {wanted}, but model {current.version} needs spec "
        f"{current.spec_id} (ask GetModelInfo, or send the full frame with an empty preprocess_id)"
    )


def run_frame(frame: types_pb2.Frame, holder: ModelHolder) -> types_pb2.Steering:
    """Decode, pre-process (unless done at the edge) and run one frame."""
    started = time.perf_counter_ns()
    model = _model_for(frame, holder)
    spec = model.spec
    if frame.preprocess_id:
        if (frame.width, frame.height) != (spec.width, spec.height):
            raise FrameError(
                f"frame {frame.sequence}: pre-processed frame is {frame.width}x{frame.height}, "
                f"spec {spec.id} makes {spec.width}x{spec.height}"
            )
        model_input = spec.to_model_input(decode_frame(frame))
    else:
        rgb = decode_frame(frame)
        try:
            model_input = spec(rgb)
        except ValueError as error:
            raise FrameError(f"frame {frame.sequence}: cannot pre-process: {error}") from None
    outputs = model.predict(model_input)
    elapsed = time.perf_counter_ns() - started
    metrics.frame_seconds(model.version).observe(elapsed / 1e9)
    return model_answer(frame, model.version, model.outputs, outputs, elapsed)


def _until_cancelled(frames: Iterator[types_pb2.Frame]) -> Iterator[types_pb2.Frame]:
    """The stream's frames; a cancelled or broken stream just ends (the edge reconnects)."""
    try:
        yield from frames
    except grpc.RpcError:
        return


class InferenceServicer(inference_pb2_grpc.InferenceServicer):
    """Serves whatever model `holder` holds at the moment each frame is run."""

    def __init__(self, holder: ModelHolder, stale_ms: float, push_targets: PushTargets | None = None) -> None:
        self.holder = holder
        self.stale_ns = int(stale_ms * 1e6)
        self.push_targets = push_targets or PushTargets("off")

    def _direct_push(self, context: grpc.ServicerContext) -> tuple[SteeringPusher, int] | None:
        """The controller this Drive call asked us to push to (and its pad), if allowed."""
        metadata = dict(context.invocation_metadata() or ())
        address = metadata.get(PUSH_CONTROLLER_KEY)
        if not address:
            return None
        try:
            port = int(metadata.get(PUSH_PORT_KEY) or 0)
            if not 0 <= port <= 3:
                raise PushRefused(f"direct push refused: {PUSH_PORT_KEY} {port} is not a controller port (0-3)")
            return self.push_targets.pusher(address), port
        except (PushRefused, ValueError) as error:
            log.warning("Drive from %s: %s; answers go back to the edge only", context.peer(), error)
            return None

    def Predict(self, request: inference_pb2.PredictRequest, context: grpc.ServicerContext) -> types_pb2.Steering:
        try:
            answer = run_frame(request.frame, self.holder)
        except FrameError as error:
            metrics.FRAMES.labels("Predict", "invalid").inc()
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        except NoModelError:
            metrics.FRAMES.labels("Predict", "no_model").inc()
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, NO_MODEL)
        metrics.FRAMES.labels("Predict", "ok").inc()
        return answer

    def Drive(self, request_iterator: Iterator[types_pb2.Frame], context: grpc.ServicerContext):
        push = self._direct_push(context)
        lag = ArrivalLag()
        # Frames are read here, one at a time: a frame waiting behind a slow one stays in
        # gRPC's flow-controlled buffers (the edge drops what it cannot send) and shows up late.
        for frame in _until_cancelled(request_iterator):
            if lag.observe(frame.capture_time_ns, time.monotonic_ns()) > self.stale_ns:
                answer, result = neutral_answer(frame), "stale"
            else:
                try:
                    answer, result = run_frame(frame, self.holder), "ok"
                except FrameError as error:
                    log.warning("Drive: %s", error)
                    answer, result = neutral_answer(frame, f"INVALID_ARGUMENT: {error}"), "invalid"
                except NoModelError:
                    metrics.FRAMES.labels("Drive", "no_model").inc()
                    context.abort(grpc.StatusCode.FAILED_PRECONDITION, NO_MODEL)
            if push is not None and push[0].connected:
                # the controller first: the emulator is waiting for this, the edge only counts it
                answer.port = push[1]
                answer.pushed = True
                push[0].push(answer)
            yield answer
            DRIVE_FRAMES[result].inc()

    def GetModelInfo(self, request: inference_pb2.GetModelInfoRequest, context: grpc.ServicerContext):
        model = self.holder.current
        if model is None:
            detail = NO_MODEL + (f" (last load failure: {self.holder.last_error})" if self.holder.last_error else "")
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, detail)
        return types_pb2.ModelInfo(
            version=model.version,
            outputs=model.outputs,
            preprocess_json=model.spec.to_json(),
            preprocess_id=model.spec_id,
            backend=model.backend,
        )
