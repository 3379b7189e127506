"""Raw model outputs -> a Steering answer (joystick in TensorKart's normalised convention)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tensorkart_core.proto.v1 import types_pb2

BUTTON_THRESHOLD = 0.5  # TensorKart's play.py rounds the softsign button outputs


def to_joystick(outputs: np.ndarray, names: Sequence[str]) -> types_pb2.Joystick:
    """x, y clamped to [-1, 1]; a button is pressed when its output rounds to 1."""
    values = dict(zip(names, (float(v) for v in outputs), strict=True))
    return types_pb2.Joystick(
        x=min(1.0, max(-1.0, values.get("x", 0.0))),
        y=min(1.0, max(-1.0, values.get("y", 0.0))),
        a=values.get("a", 0.0) > BUTTON_THRESHOLD,
        b=values.get("b", 0.0) > BUTTON_THRESHOLD,
        rb=values.get("rb", 0.0) > BUTTON_THRESHOLD,
    )


def model_answer(frame: types_pb2.Frame, version: str, names: Sequence[str], outputs: np.ndarray, server_ns: int):
    return types_pb2.Steering(
        frame_sequence=frame.sequence,
        capture_time_ns=frame.capture_time_ns,
        model_version=version,
        source=types_pb2.STEERING_SOURCE_MODEL,
        joystick=to_joystick(outputs, names),
        outputs=[float(v) for v in outputs],
        server_time_ns=server_ns,
    )


def neutral_answer(
    frame: types_pb2.Frame,
    error: str = "",
    code: types_pb2.SteeringError = types_pb2.STEERING_ERROR_UNSPECIFIED,
    serving_preprocess_id: str = "",
) -> types_pb2.Steering:
    """A frame not run through the model (stale or unusable): neutral stick, A released."""
    return types_pb2.Steering(
        frame_sequence=frame.sequence,
        capture_time_ns=frame.capture_time_ns,
        source=types_pb2.STEERING_SOURCE_SAFETY,
        joystick=types_pb2.Joystick(),
        stale=True,
        error=error,
        error_code=code,
        serving_preprocess_id=serving_preprocess_id,
    )
