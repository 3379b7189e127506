"""Frames through the served model: pick the model, decode, pre-process (unless done at the
edge), invoke. Blocking work: the servicer runs a batch of frames of concurrent streams in a
model thread (`run_frames`, loop_batch.py), or one frame on the event loop itself only for an
edge-pre-processed frame, a fast LiteRT model and no other frame running (`run_frame`,
servicer._run)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

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


def model_input(frame: types_pb2.Frame, model: ServedModel) -> np.ndarray:
    """The frame as `model`'s input: decoded, pre-processed unless that was done at the edge."""
    spec = model.spec
    if frame.preprocess_id:
        if (frame.width, frame.height) != (spec.width, spec.height):
            raise FrameError(
                f"frame {frame.sequence}: pre-processed frame is {frame.width}x{frame.height}, "
                f"spec {spec.id} makes {spec.width}x{spec.height}"
            )
        return spec.to_model_input(decode_frame(frame))
    rgb = decode_frame(frame)
    try:
        return spec(rgb)
    except ValueError as error:
        raise FrameError(f"frame {frame.sequence}: cannot pre-process: {error}") from None


def run_frame(frame: types_pb2.Frame, holder: ModelHolder) -> types_pb2.Steering:
    """Decode, pre-process (unless done at the edge) and run one frame."""
    started = time.perf_counter_ns()
    model = model_for(frame, holder)
    outputs = model.predict(model_input(frame, model))
    elapsed = time.perf_counter_ns() - started
    metrics.frame_seconds(model.version).observe(elapsed / 1e9)
    return model_answer(frame, model.version, model.outputs, outputs, elapsed)


def run_frames(frames: Sequence[types_pb2.Frame], holder: ModelHolder) -> list[types_pb2.Steering | Exception]:
    """Run a batch of frames (of any streams): one Steering per frame, or the error (FrameError,
    SpecMismatch, NoModelError) that frame alone gets. Frames for one model run together
    (`ServedModel.predict_many`: one interpreter borrowed for all); each answer's server time
    is the batch's time per frame."""
    started = time.perf_counter_ns()
    results: list[types_pb2.Steering | Exception | None] = [None] * len(frames)
    groups: dict[int, tuple[ServedModel, list[int], list[np.ndarray]]] = {}
    for index, frame in enumerate(frames):
        try:
            model = model_for(frame, holder)
            single = model_input(frame, model)
        except (FrameError, NoModelError) as error:
            results[index] = error
            continue
        _, indices, inputs = groups.setdefault(id(model), (model, [], []))
        indices.append(index)
        inputs.append(single)
    for model, indices, inputs in groups.values():
        try:
            outputs = model.predict_many(inputs)
        except Exception as error:  # a failing model fails its frames, not the batch's others
            for index in indices:
                results[index] = error
            continue
        per_frame = (time.perf_counter_ns() - started) // len(frames)
        metrics.frame_seconds(model.version).observe(per_frame / 1e9)
        for index, row in zip(indices, outputs, strict=True):
            results[index] = model_answer(frames[index], model.version, model.outputs, row, per_frame)
    return results  # type: ignore[return-value] - every slot is filled above
