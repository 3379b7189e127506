"""The game state: kart on a track, progress and laps, and driving-quality bookkeeping.

An intervention happens when the kart's centre leaves the road or it makes less than 1 m of
progress in 3 s (stuck, or driving the wrong way); the kart is then put back on the centre line,
facing along it, at rest. autonomy = max(0, 1 - interventions * 6 s / simulated seconds).
With traffic (computer karts), contact slows and shoves the kart and is counted in `contacts`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tensorkart_simulator import physics
from tensorkart_simulator.pad import NEUTRAL, Pad
from tensorkart_simulator.physics import KartState
from tensorkart_simulator.track import Track
from tensorkart_simulator.traffic import Traffic

STUCK_SECONDS = 3.0
STUCK_PROGRESS_M = 1.0
STUCK_FRAMES = round(STUCK_SECONDS * physics.STEP_HZ)
INTERVENTION_PENALTY_S = 6.0


def autonomy(interventions: int, sim_seconds: float) -> float:
    """NVIDIA PilotNet's autonomy metric."""
    if sim_seconds <= 0:
        return 1.0 if interventions == 0 else 0.0
    return max(0.0, 1.0 - interventions * INTERVENTION_PENALTY_S / sim_seconds)


@dataclass
class Game:
    """One run on one track. `frame` counts game steps: frame n shows the state after n steps."""

    track: Track
    traffic: Traffic | None = None
    kart: KartState = field(init=False)
    frame: int = 0
    laps: int = 0
    lap_times: list[float] = field(default_factory=list)
    interventions: int = 0
    contacts: int = 0
    intervention_log: list[tuple[int, str]] = field(default_factory=list)
    progress: float = 0.0  # metres driven along the centre line since the start (can fall when reversing)
    offset: float = 0.0  # signed distance from the centre line
    s: float = 0.0
    last_pad: Pad = NEUTRAL
    _index: int = 0
    _lap_started: float = 0.0
    _mark_progress: float = 0.0
    _mark_frame: int = 0

    def __post_init__(self) -> None:
        self._place(0.0, speed=0.0)

    @property
    def sim_seconds(self) -> float:
        return self.frame * physics.DT

    @property
    def lap_seconds(self) -> float:
        return self.sim_seconds - self._lap_started

    @property
    def autonomy(self) -> float:
        return autonomy(self.interventions, self.sim_seconds)

    def _place(self, s: float, speed: float) -> None:
        centre = self.track.centre
        x, y = centre.point_at(s)
        self.kart = KartState(float(x), float(y), centre.heading_at(s), speed)
        self._index = centre.index_at(s)
        self.s, self.offset = centre.wrap(s), 0.0

    def grass_fraction(self) -> float:
        """Share of the kart's width beyond the road edge."""
        outside = abs(self.offset) + physics.KART_HALF_WIDTH_M - self.track.half_width
        return min(1.0, max(0.0, outside / (2 * physics.KART_HALF_WIDTH_M)))

    def step(self, pad: Pad) -> None:
        """One 30 Hz game step under `pad`, then laps, stuck and off-road checks."""
        self.last_pad = pad
        physics.step(self.kart, pad, self.grass_fraction())
        self.frame += 1
        centre = self.track.centre
        where = centre.locate(np.array([self.kart.x, self.kart.y]), hint=self._index)
        delta = (where.s - self.s + centre.length / 2) % centre.length - centre.length / 2
        self.progress += delta
        self.s, self.offset, self._index = where.s, where.offset, where.index
        if self.traffic is not None:
            self._traffic_step()
        while self.progress >= (self.laps + 1) * centre.length:
            self.laps += 1
            self.lap_times.append(self.sim_seconds - self._lap_started)
            self._lap_started = self.sim_seconds
        if self.progress - self._mark_progress >= STUCK_PROGRESS_M:
            self._mark_progress, self._mark_frame = self.progress, self.frame
        if abs(self.offset) > self.track.half_width:
            self._intervene("off road")
        elif self.frame - self._mark_frame >= STUCK_FRAMES:
            self._intervene("stuck")

    def _traffic_step(self) -> None:
        assert self.traffic is not None
        self.traffic.step()
        new, speed, shove = self.traffic.collide(self.s, self.offset, self.kart.speed)
        self.contacts += new
        self.kart.speed = speed
        if shove:
            normal = self.track.centre.normal_at(self.s)
            self.kart.x += float(normal[0]) * shove
            self.kart.y += float(normal[1]) * shove
            self.offset += shove

    def _intervene(self, reason: str) -> None:
        self.interventions += 1
        self.intervention_log.append((self.frame, reason))
        self._place(self.s, speed=0.0)
        self._mark_progress, self._mark_frame = self.progress, self.frame

    def speed_kmh(self) -> float:
        return self.kart.speed * 3.6

    def heading_error(self) -> float:
        """Kart heading minus road heading, wrapped to [-pi, pi]."""
        diff = self.kart.heading - self.track.centre.heading_at(self.s)
        return (diff + math.pi) % (2 * math.pi) - math.pi
