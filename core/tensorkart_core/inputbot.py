"""Facts of the mupen64plus-input-bot protocol that both of its sides here share.

The plugin (kevinhughes27/mupen64plus-input-bot) opens a new TCP connection for every pad
poll, sends `GET /<controller 0-3> HTTP/1.0`, reads until the server closes, and parses the
body as a JSON object of integers with these keys (missing keys count as 0). The controller
service answers it; the practice track's `controller` driver speaks it like the plugin.
"""

from __future__ import annotations

# Stick range in N64 units: X_AXIS/Y_AXIS are signed 8-bit, but a real stick reaches about ±80.
STICK_RANGE = 80

BUTTON_KEYS = (
    "START_BUTTON",
    "Z_TRIG",
    "B_BUTTON",
    "A_BUTTON",
    "R_TRIG",
    "L_TRIG",
    "R_CBUTTON",
    "L_CBUTTON",
    "D_CBUTTON",
    "U_CBUTTON",
    "R_DPAD",
    "L_DPAD",
    "D_DPAD",
    "U_DPAD",
)
AXIS_KEYS = ("X_AXIS", "Y_AXIS")
ALL_KEYS = (*BUTTON_KEYS, *AXIS_KEYS)


def clamp_axis(value: float) -> int:
    """Round to N64 stick units and clamp to ±STICK_RANGE."""
    return max(-STICK_RANGE, min(STICK_RANGE, round(value)))
