"""Computer karts: `--traffic N` karts that drive the track at their own pace and line.

Each kart follows the centre line at a lateral offset that wanders slowly, at a share of a speed
limit that keeps it on the road in bends (60..85% of it, so the player catches up and has to
overtake). Contact with the player's kart (their footprints overlap) slows whoever runs into the
other and shoves the player sideways; it is counted in `Game.contacts`. Everything is seeded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tensorkart_simulator import physics
from tensorkart_simulator.track import Track

KART_LENGTH_M = 2.0
CONTACT_WIDTH_M = 2 * physics.KART_HALF_WIDTH_M
PACE = (0.6, 0.85)  # share of the bend speed limit
EDGE_CLEARANCE_M = 2.0  # a computer kart's centre stays this far inside the road edge
WANDER_M = 1.0
SHOVE_M = 0.35  # extra sideways push beyond separating the footprints
REAR_END_SPEED = 0.7  # the kart behind drops to this share of the one in front's speed
SPEED_GRID = np.arange(0.5, physics.TOP_SPEED_ROAD + 0.01, 0.25)


@dataclass
class ComputerKart:
    s: float  # arc length along the centre line
    offset: float  # signed lateral offset (left positive, as Game.offset)
    speed: float
    pace: float
    line: float  # base lateral offset
    wander_phase: float
    wander_m: float  # wavelength of the lateral wander along the track
    colour: int
    touching: bool = False


def speed_limits(track: Track) -> np.ndarray:
    """Per centre-line sample: the fastest speed whose steering can follow the road 15 m ahead."""
    centre = track.centre
    window = max(1, round(15.0 / centre.spacing))
    curv = np.abs(centre.curvature)
    ahead = np.max(np.stack([np.roll(curv, -k) for k in range(window)]), axis=0)
    capacity = np.array([physics.max_curvature(v) for v in SPEED_GRID])
    ok = capacity[None, :] * 0.8 >= ahead[:, None]
    # The last grid speed that is still fine (capacity falls as speed rises).
    best = np.where(ok.any(axis=1), ok.sum(axis=1) - 1, 0)
    return SPEED_GRID[best]


class Traffic:
    """The computer karts of one run; `step()` once per game step, after the player's kart."""

    def __init__(self, track: Track, count: int, seed: int = 0) -> None:
        if count < 0:
            raise ValueError(f"traffic must be >= 0, got {count}")
        self.track = track
        self.limits = speed_limits(track)
        rng = np.random.default_rng([seed, 0x7AFF1C])
        length = track.centre.length
        room = max(0.0, track.half_width - EDGE_CLEARANCE_M - WANDER_M)
        self.karts: list[ComputerKart] = []
        for i in range(count):
            s = 25.0 + (length - 40.0) * (i + rng.uniform(0.1, 0.6)) / count
            kart = ComputerKart(
                s=s % length,
                offset=0.0,
                speed=0.0,
                pace=float(rng.uniform(*PACE)),
                line=float(rng.uniform(-room, room)),
                wander_phase=float(rng.uniform(0, 2 * np.pi)),
                wander_m=float(rng.uniform(60, 140)),
                colour=i,
            )
            kart.offset = self._line(kart)
            kart.speed = kart.pace * self._limit(kart.s)
            self.karts.append(kart)

    def _limit(self, s: float) -> float:
        return float(self.limits[self.track.centre.index_at(s)])

    def _line(self, kart: ComputerKart) -> float:
        return kart.line + WANDER_M * math.sin(kart.wander_phase + 2 * math.pi * kart.s / kart.wander_m)

    def step(self) -> None:
        centre = self.track.centre
        for kart in self.karts:
            target = kart.pace * self._limit(kart.s)
            kart.speed += (target - kart.speed) * min(1.0, 1.5 * physics.DT)
            kart.s = centre.wrap(kart.s + kart.speed * physics.DT)
            kart.offset = self._line(kart)

    def ahead_of(self, s: float, offset: float) -> list[tuple[float, float, float]]:
        """(metres ahead along the track, lateral offset, speed) of every kart, nearest first."""
        length = self.track.centre.length
        found = []
        for kart in self.karts:
            ds = (kart.s - s + length / 2) % length - length / 2
            found.append((ds, kart.offset, kart.speed))
        return sorted(found, key=lambda item: abs(item[0]))

    def world_positions(self) -> list[tuple[float, float, float, int]]:
        """(x, y, heading, colour) of every kart."""
        centre = self.track.centre
        out = []
        for kart in self.karts:
            point = centre.point_at(kart.s) + centre.normal_at(kart.s) * kart.offset
            out.append((float(point[0]), float(point[1]), centre.heading_at(kart.s), kart.colour))
        return out

    def collide(self, s: float, offset: float, speed: float) -> tuple[int, float, float]:
        """Contacts with the player's kart at (s, offset, speed): (new contacts, new speed, shove).

        The shove is the sideways move (metres, left positive) that separates the footprints.
        """
        length = self.track.centre.length
        new, shove = 0, 0.0
        for kart in self.karts:
            ds = (kart.s - s + length / 2) % length - length / 2
            lateral = offset + shove - kart.offset
            touching = abs(ds) < KART_LENGTH_M and abs(lateral) < CONTACT_WIDTH_M
            if touching:
                if not kart.touching:
                    new += 1
                if ds > 0:  # the player ran into it
                    speed = min(speed, kart.speed * REAR_END_SPEED)
                else:  # it ran into the player
                    kart.speed = min(kart.speed, speed * REAR_END_SPEED)
                side = 1.0 if lateral >= 0 else -1.0
                shove += side * (CONTACT_WIDTH_M - abs(lateral) + SHOVE_M)
            kart.touching = touching
        return new, speed, shove
