"""N64 controller state as the input-bot plugin delivers it, and the normalised joystick convention.

Every driver ends in a `Pad` (signed N64 stick units, right/up positive, clamped to +-80), exactly
what the real emulator would see; `Pad.joystick()` gives TensorKart's normalised view of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tensorkart_core.inputbot import STICK_RANGE, clamp_axis
from tensorkart_core.proto.v1 import types_pb2

__all__ = ["STICK_RANGE", "Pad", "clamp_axis"]


@dataclass(frozen=True)
class Pad:
    """One controller poll: stick in N64 units (X right +, Y up +) and the buttons the game uses."""

    x_axis: int = 0
    y_axis: int = 0
    a: bool = False
    b: bool = False
    r: bool = False
    z: bool = False
    start: bool = False

    @classmethod
    def from_normalised(cls, x: float, y: float = 0.0, a: bool = False, b: bool = False, r: bool = False) -> Pad:
        """From TensorKart's convention (x in [-1, 1], -1 = left; y < 0 = up) to N64 units."""
        return cls(x_axis=clamp_axis(x * STICK_RANGE), y_axis=clamp_axis(-y * STICK_RANGE), a=a, b=b, r=r)

    @property
    def steer(self) -> float:
        """Stick X in [-1, 1], right positive."""
        return self.x_axis / STICK_RANGE

    def joystick(self) -> types_pb2.Joystick:
        return types_pb2.Joystick(
            x=self.x_axis / STICK_RANGE,
            y=-self.y_axis / STICK_RANGE,
            a=self.a,
            b=self.b,
            rb=self.r,
            start=self.start,
            z=self.z,
        )


NEUTRAL = Pad()
