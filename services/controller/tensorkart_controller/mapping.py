"""Steering (TensorKart's normalised joystick) -> N64 pad state, and the pad's input-bot reply.

N64 stick units are signed 8-bit but the real stick only reaches about ±80, so axes are
clamped there (TensorKart's `int(x * 200)` overflowed the byte). TensorKart's y is
negative-up (pygame), the N64's Y_AXIS is positive-up: y is negated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tensorkart_core.inputbot import ALL_KEYS, STICK_RANGE
from tensorkart_core.proto.v1 import types_pb2

AXIS_MAX = STICK_RANGE


@dataclass(frozen=True)
class Calibration:
    """How normalised stick values become N64 units."""

    gain: float = 1.0
    deadzone: float = 0.0
    hold_a: bool = True


@dataclass(frozen=True)
class PadState:
    """Everything the input plugin reads for one controller, in the plugin's own units."""

    x_axis: int = 0
    y_axis: int = 0
    a_button: bool = False
    b_button: bool = False
    z_trig: bool = False
    r_trig: bool = False
    start_button: bool = False

    def as_json(self) -> bytes:
        """The plugin's JSON object: all 16 keys, integers, no spaces."""
        values = {
            "START_BUTTON": int(self.start_button),
            "Z_TRIG": int(self.z_trig),
            "B_BUTTON": int(self.b_button),
            "A_BUTTON": int(self.a_button),
            "R_TRIG": int(self.r_trig),
            "X_AXIS": self.x_axis,
            "Y_AXIS": self.y_axis,
        }
        return ("{" + ",".join(f'"{key}":{values.get(key, 0)}' for key in ALL_KEYS) + "}").encode()

    def to_proto(self) -> types_pb2.ControllerState:
        return types_pb2.ControllerState(
            x_axis=self.x_axis,
            y_axis=self.y_axis,
            a_button=self.a_button,
            b_button=self.b_button,
            z_trig=self.z_trig,
            r_trig=self.r_trig,
            start_button=self.start_button,
        )


NEUTRAL = PadState()


def axis(value: float, calibration: Calibration) -> int:
    """One normalised axis value -> N64 units: deadzone, gain, scale to ±80, round, clamp."""
    if abs(value) <= calibration.deadzone:
        return 0
    scaled = round(calibration.gain * value * AXIS_MAX)
    return max(-AXIS_MAX, min(AXIS_MAX, scaled))


def is_finite_joystick(joystick: types_pb2.Joystick) -> bool:
    return math.isfinite(joystick.x) and math.isfinite(joystick.y)


def pad_state(steering: types_pb2.Steering, calibration: Calibration) -> PadState:
    """The pad state one steering command asks for.

    Model steering holds A when `hold_a` is set (TensorKart play.py always pressed A);
    human steering passes the human's own buttons through, as play.py's override did.
    """
    joystick = steering.joystick
    human = steering.source == types_pb2.STEERING_SOURCE_HUMAN
    return PadState(
        x_axis=axis(joystick.x, calibration),
        y_axis=-axis(joystick.y, calibration),
        a_button=joystick.a if human or not calibration.hold_a else True,
        b_button=joystick.b,
        z_trig=joystick.z,
        r_trig=joystick.rb,
        start_button=joystick.start,
    )
