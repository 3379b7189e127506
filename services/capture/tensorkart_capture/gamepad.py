"""Gamepad reading with pygame, mapped to TensorKart's joystick convention.

A `PadMapping` says which pygame axis / button is which, the inversion, the deadzone
and the pad's full-deflection value; presets cover Xbox-style, DualShock-style and USB
N64 pads (their layouts as SDL 2 reports them on Linux; USB N64 pads vary, so override
what differs: `--pad n64,a=1,b=2`). The result is TensorKart's convention: x, y in
[-1, 1], x < 0 left, y < 0 stick pushed forward (pygame's own sign), buttons a, b, rb,
plus lb (manual override), start and z.

`Gamepad` keeps the pad's state from pygame's event queue (JOYAXISMOTION, JOYBUTTONDOWN
/ UP, JOYHATMOTION), so events posted to that queue (a virtual device, a test) drive it
exactly like a real pad does.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from tensorkart_core.proto.v1 import types_pb2

BUTTONS = ("a", "b", "rb", "lb", "start", "z")


class MappingError(ValueError):
    """A pad mapping that cannot be used; the message names the bad part."""


@dataclass(frozen=True)
class PadMapping:
    """Which pygame axes/buttons make TensorKart's x, y, a, b, rb (and lb, start, z)."""

    name: str = "custom"
    axis_x: int = 0
    axis_y: int = 1
    invert_x: bool = False
    invert_y: bool = False
    deadzone: float = 0.05
    # What the pad reports at full deflection (many USB N64 pads stop near 0.8).
    axis_range: float = 1.0
    a: int | None = 0
    b: int | None = 2
    rb: int | None = 5
    lb: int | None = 4
    start: int | None = 7
    z: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.deadzone < 1.0:
            raise MappingError(f"deadzone must be in [0, 1), got {self.deadzone}")
        if not 0.0 < self.axis_range <= 1.0:
            raise MappingError(f"axis_range must be in (0, 1], got {self.axis_range}")
        for name in ("axis_x", "axis_y", *BUTTONS):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise MappingError(f"{name} must be a non-negative index, got {value!r}")

    def describe(self) -> str:
        """Compact JSON, as stored in session.json."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str) -> PadMapping:
        """A preset name, a JSON file, or either followed by overrides: 'xbox,deadzone=0.1,invert_y=1'."""
        head, *overrides = [part.strip() for part in text.split(",") if part.strip()] or ["xbox"]
        if head in PRESETS:
            mapping = PRESETS[head]
        elif Path(head).is_file():
            try:
                loaded = json.loads(Path(head).read_text())
                mapping = cls(**{"name": Path(head).stem, **loaded})
            except (json.JSONDecodeError, TypeError) as error:
                raise MappingError(f"pad mapping file {head}: {error}") from None
        elif "=" in head:
            mapping, overrides = PRESETS["xbox"], [head, *overrides]
        else:
            raise MappingError(f"unknown pad preset {head!r}; presets: {', '.join(PRESETS)} (or a JSON file)")
        return mapping.with_overrides(overrides)

    def with_overrides(self, overrides: Sequence[str]) -> PadMapping:
        kinds = {f.name: f.type for f in fields(self)}
        changes: dict[str, object] = {}
        for item in overrides:
            key, sep, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or key not in kinds or key == "name":
                raise MappingError(f"pad mapping override {item!r}: expected KEY=VALUE with KEY one of {_keys()}")
            try:
                if key.startswith("invert_"):
                    changes[key] = value.lower() in ("1", "true", "yes", "on")
                elif key in ("deadzone", "axis_range"):
                    changes[key] = float(value)
                else:
                    changes[key] = None if value.lower() in ("", "none", "-") else int(value)
            except ValueError:
                raise MappingError(f"pad mapping override {item!r}: {value!r} is not a number") from None
        return replace(self, **changes) if changes else self


def _keys() -> str:
    return ", ".join(f.name for f in fields(PadMapping) if f.name != "name")


PRESETS: dict[str, PadMapping] = {
    # xpad / xinput: A=0 B=1 X=2 Y=3 LB=4 RB=5 Back=6 Start=7; TensorKart's utils.py reads b from X.
    "xbox": PadMapping(name="xbox", a=0, b=2, rb=5, lb=4, start=7, z=6),
    # hid-sony (DualShock 4): Cross=0 Circle=1 Triangle=2 Square=3 L1=4 R1=5 L2=6 R2=7 Share=8 Options=9.
    "dualshock": PadMapping(name="dualshock", a=0, b=3, rb=5, lb=4, start=9, z=6),
    # Common USB N64 pads (Retrolink-style): C buttons 0-3, L=4, R=5, A=6, Z=7, B=8, Start=9.
    "n64": PadMapping(name="n64", a=6, b=8, rb=5, lb=4, start=9, z=7, axis_range=0.8, deadzone=0.08),
}


def normalise_axis(value: float, deadzone: float, axis_range: float = 1.0, invert: bool = False) -> float:
    """Raw pygame axis value -> [-1, 1]: scaled to the pad's range, deadzone removed (rescaled so the
    output still reaches ±1 at full deflection), optionally inverted."""
    if not math.isfinite(value):
        return 0.0
    scaled = max(-1.0, min(1.0, value / axis_range))
    magnitude = abs(scaled)
    if magnitude <= deadzone:
        return 0.0
    result = math.copysign((magnitude - deadzone) / (1.0 - deadzone), scaled)
    return -result if invert else result


def map_state(mapping: PadMapping, axes: Sequence[float], buttons: Sequence[bool]) -> types_pb2.Joystick:
    """A pad's raw state -> Joystick in TensorKart's convention (missing axes/buttons read as 0)."""

    def axis(index: int) -> float:
        return float(axes[index]) if index < len(axes) else 0.0

    def button(index: int | None) -> bool:
        return index is not None and index < len(buttons) and bool(buttons[index])

    return types_pb2.Joystick(
        x=normalise_axis(axis(mapping.axis_x), mapping.deadzone, mapping.axis_range, mapping.invert_x),
        y=normalise_axis(axis(mapping.axis_y), mapping.deadzone, mapping.axis_range, mapping.invert_y),
        a=button(mapping.a),
        b=button(mapping.b),
        rb=button(mapping.rb),
        lb=button(mapping.lb),
        start=button(mapping.start),
        z=button(mapping.z),
    )


class GamepadError(RuntimeError):
    """No usable gamepad."""


class Gamepad:
    """One pad (pygame joystick `index`) read through pygame's event queue.

    require_device=False also works with no pad plugged in: the state then only
    changes through events posted to pygame's queue for this instance id.
    """

    def __init__(self, mapping: PadMapping | None = None, index: int = 0, require_device: bool = True) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame  # imported here: pygame is heavy and only the gamepad needs it

        self._pg = pygame
        self.mapping = mapping or PRESETS["xbox"]
        if not pygame.display.get_init():
            os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
            pygame.display.init()  # the event queue needs the video subsystem
        pygame.joystick.init()
        self.device = None
        self.instance_id = index
        self.name = "virtual"
        axes_count, buttons_count = 6, 16
        if index < pygame.joystick.get_count():
            self.device = pygame.joystick.Joystick(index)
            self.device.init()
            self.instance_id = self.device.get_instance_id()
            self.name = self.device.get_name()
            axes_count, buttons_count = self.device.get_numaxes(), self.device.get_numbuttons()
        elif require_device:
            raise GamepadError(
                f"no gamepad at index {index} ({pygame.joystick.get_count()} connected); plug one in or use "
                "--source sim (the practice track's expert)"
            )
        self.axes = [0.0] * max(axes_count, self.mapping.axis_x + 1, self.mapping.axis_y + 1)
        self.buttons = [False] * max(buttons_count, 1 + max((getattr(self.mapping, b) or 0) for b in BUTTONS))
        if self.device is not None:
            self.axes[: self.device.get_numaxes()] = [self.device.get_axis(i) for i in range(self.device.get_numaxes())]
            for i in range(self.device.get_numbuttons()):
                self.buttons[i] = bool(self.device.get_button(i))
        self._types = (pygame.JOYAXISMOTION, pygame.JOYBUTTONDOWN, pygame.JOYBUTTONUP)

    def _apply(self, event: object) -> None:
        pg = self._pg
        if getattr(event, "instance_id", getattr(event, "joy", self.instance_id)) != self.instance_id:
            return
        if event.type == pg.JOYAXISMOTION and 0 <= event.axis < len(self.axes):
            self.axes[event.axis] = float(event.value)
        elif event.type in (pg.JOYBUTTONDOWN, pg.JOYBUTTONUP) and 0 <= event.button < len(self.buttons):
            self.buttons[event.button] = event.type == pg.JOYBUTTONDOWN

    def poll(self) -> None:
        """Take the pad's pending events off pygame's queue (other events stay queued)."""
        for event in self._pg.event.get(self._types, pump=True):
            self._apply(event)

    def read(self) -> types_pb2.Joystick:
        """The pad's current state in TensorKart's convention (lb = manual override)."""
        self.poll()
        return map_state(self.mapping, self.axes, self.buttons)

    def close(self) -> None:
        if self.device is not None:
            self.device.quit()
            self.device = None
