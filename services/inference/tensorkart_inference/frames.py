"""One frame through the served model: pick the model, decode, pre-process (unless done at the
edge), invoke. Blocking work: the servicer runs it in an executor, never on the event loop."""

from __future__ import annotations

import time

from tensorkart_core.images import FrameError, decode_frame
from tensorkart_core.proto.v1 import types_pb2
from tensorkart_inference import metrics
from tensorkart_inference.hotswap import PREVIOUS_SPEC_GRACE_S, ModelHolder
from tensorkart_inference.models import ServedModel
from tensorkart_inference.steering import model_answer

NO_MODEL = "no active model"


class NoModelError(RuntimeError):
    """Nothing is loaded yet (no active version in the registry, or it failed to load)."""


class SpecMismatch(FrameError):
    """The frame was pre-processed at the edge for a spec the served model does not use."""

    def __init__(self, message: str, serving_spec_id: str) -> None:
        super().__init__(message)
        self.serving_spec_id = serving_spec_id


def model_for(frame: types_pb2.Frame, holder: ModelHolder) -> ServedModel:
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
    raise SpecMismatch(
        f"frame {frame.sequence}: pre-processed for spec {wanted}, but model {current.version} needs spec "
        f"{current.spec_id} (ask GetModelInfo, or send the full frame with an empty preprocess_id)",
        current.spec_id,
    )


def run_frame(frame: types_pb2.Frame, holder: ModelHolder) -> types_pb2.Steering:
    """Decode, pre-process (unless done at the edge) and run one frame."""
    started = time.perf_counter_ns()
    model = model_for(frame, holder)
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
