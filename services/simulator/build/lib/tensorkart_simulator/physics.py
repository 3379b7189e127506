"""Kart physics at a fixed 30 Hz step: a kinematic bicycle model with arcade speed rules.

A accelerates towards the surface's top speed, B brakes, nothing coasts down; stick X steers
with a lock that narrows as speed rises (so full A with moderate steering stays drivable);
grass under the wheels lowers the top speed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tensorkart_simulator.pad import Pad

STEP_HZ = 30
DT = 1.0 / STEP_HZ
WHEELBASE_M = 1.8
REAR_TO_CENTRE_M = 0.9
KART_HALF_WIDTH_M = 0.6
STEER_LOCK_RAD = 0.5
STEER_FADE_SPEED = 20.0  # m/s at which the steering lock has halved
TOP_SPEED_ROAD = 18.0  # m/s (65 km/h)
TOP_SPEED_GRASS = 7.0
ACCEL_RATE = 1.1  # 1/s: approach to top speed under A
COAST_DECEL = 3.0  # m/s^2 without A
BRAKE_DECEL = 14.0
GRASS_DECEL = 12.0  # m/s^2 above the grass top speed


@dataclass
class KartState:
    x: float
    y: float
    heading: float  # radians, counter-clockwise from +x
    speed: float = 0.0  # m/s, never negative


def max_steer(speed: float) -> float:
    """Steering lock in radians at `speed`."""
    return STEER_LOCK_RAD / (1.0 + max(speed, 0.0) / STEER_FADE_SPEED)


def max_curvature(speed: float) -> float:
    """Tightest curvature (1/m) the kart can follow at `speed` with full lock."""
    delta = max_steer(speed)
    beta = math.atan(REAR_TO_CENTRE_M / WHEELBASE_M * math.tan(delta))
    return math.sin(beta) / REAR_TO_CENTRE_M


def step(kart: KartState, pad: Pad, grass_fraction: float) -> None:
    """Advance `kart` by one game step under `pad`; grass_fraction in [0, 1] is how much of it is off-road."""
    top = TOP_SPEED_ROAD + (TOP_SPEED_GRASS - TOP_SPEED_ROAD) * grass_fraction
    speed = kart.speed
    if pad.b:
        speed -= BRAKE_DECEL * DT
    elif pad.a:
        speed += (top - speed) * ACCEL_RATE * DT if speed < top else 0.0
    else:
        speed -= COAST_DECEL * DT
    if speed > top:
        speed = max(top, speed - GRASS_DECEL * DT)
    speed = max(0.0, speed)
    # Stick right (positive) turns clockwise, i.e. to negative steering angles.
    delta = -pad.steer * max_steer(speed)
    beta = math.atan(REAR_TO_CENTRE_M / WHEELBASE_M * math.tan(delta))
    kart.x += speed * math.cos(kart.heading + beta) * DT
    kart.y += speed * math.sin(kart.heading + beta) * DT
    kart.heading = (kart.heading + speed / REAR_TO_CENTRE_M * math.sin(beta) * DT + math.pi) % (2 * math.pi) - math.pi
    kart.speed = speed
