"""The expert: pure pursuit on the centre line, with human-like noise and drift-and-recover manoeuvres.

Its output is what a human would press on a gamepad (stick normalised to [-1, 1], quantised to
N64 units, A held), so recordings of it look like human recordings, recoveries included.
"""

from __future__ import annotations

import math

import numpy as np

from tensorkart_simulator import physics
from tensorkart_simulator.game import Game
from tensorkart_simulator.pad import Pad

# A drift-and-recover manoeuvre starts every MANOEUVRE_GAP_S seconds on average (uniform range).
MANOEUVRE_GAP_S = (6.0, 14.0)
DRIFT_MAX_S = 1.6
EDGE_MARGIN_M = 2.2
GUARD_HORIZON_S = 0.5
GUARD_MARGIN_M = 0.4  # closest the drift aims to the road edge (kart half width + overshoot)
PASS_GAP_M = 2.6  # lateral distance between centres when overtaking a computer kart
PASS_EDGE_M = 1.8  # the overtaking line keeps the kart's centre this far inside the road edge
PASS_LOOK_S = 2.2  # start moving over this many seconds before reaching a slower kart


class ExpertDriver:
    polls_after_publish = False

    def __init__(self, seed: int = 0, noise: float = 0.05, manoeuvres: bool = True) -> None:
        self.rng = np.random.default_rng(seed)
        self.noise = max(0.0, noise)
        self.manoeuvres = manoeuvres
        self._jitter = 0.0
        self._target_offset = 0.0
        self._phase = "cruise"
        self._phase_until = self._next_gap()
        self._pass_line: float | None = None

    def _next_gap(self) -> float:
        return float(self.rng.uniform(*MANOEUVRE_GAP_S))

    def _plan(self, game: Game) -> None:
        """Cruise on the centre line; now and then drift towards an edge, then recover."""
        t = game.sim_seconds
        if not self.manoeuvres:
            return
        room = game.track.half_width - EDGE_MARGIN_M
        if self._phase == "cruise" and t >= self._phase_until and room > 0.5:
            side = 1.0 if self.rng.random() < 0.5 else -1.0
            self._target_offset = side * room * float(self.rng.uniform(0.6, 1.0))
            self._phase, self._phase_until = "drift", t + DRIFT_MAX_S
        elif self._phase == "drift" and (t >= self._phase_until or abs(game.offset) >= abs(self._target_offset) * 0.85):
            self._target_offset = 0.0
            self._phase, self._phase_until = "cruise", t + self._next_gap()

    def _overtake(self, game: Game) -> tuple[float | None, bool]:
        """The lateral line that passes the computer karts ahead (None: no kart in the way), and
        whether to lift off because no line is clear yet."""
        if game.traffic is None:
            return None, False
        speed = game.kart.speed
        horizon = 8.0 + PASS_LOOK_S * speed
        limit = game.track.half_width - PASS_EDGE_M
        ahead = [(ds, off, v) for ds, off, v in game.traffic.ahead_of(game.s, game.offset) if -2.5 < ds < horizon]
        if not ahead:
            return None, False
        planned = self._pass_line if self._pass_line is not None else self._target_offset
        blocking = [item for item in ahead if abs(item[1] - planned) < PASS_GAP_M]
        if not blocking:
            return (planned if self._pass_line is not None else None), False
        candidates = sorted(
            {max(-limit, min(limit, off + side * PASS_GAP_M)) for _, off, _ in ahead for side in (-1.0, 1.0)}
            | {planned},
            key=lambda line: abs(line - game.offset),
        )
        for line in candidates:
            if all(abs(off - line) >= PASS_GAP_M - 0.05 for _, off, _ in ahead):
                return line, False
        # No clear line: hang back behind the nearest kart in the way.
        nearest = min(blocking, key=lambda item: item[0])
        return None, nearest[0] < 4.0 + 0.5 * speed and speed > nearest[2] * 0.95

    def act(self, game: Game) -> Pad:
        self._plan(game)
        self._pass_line, hold_back = self._overtake(game)
        if self._pass_line is not None and self._phase == "drift":
            self._phase, self._phase_until = "cruise", game.sim_seconds + self._next_gap()
        if self._pass_line is not None:
            self._target_offset = self._pass_line
        kart, centre = game.kart, game.track.centre
        speed = kart.speed
        lookahead = min(14.0, max(5.0, 4.0 + 0.45 * speed))
        if self._phase == "drift":
            lookahead *= 0.7
        target_s = game.s + lookahead
        target = centre.point_at(target_s) + centre.normal_at(target_s) * self._target_offset
        dx, dy = target[0] - kart.x, target[1] - kart.y
        cos_h, sin_h = math.cos(kart.heading), math.sin(kart.heading)
        ahead, left = cos_h * dx + sin_h * dy, -sin_h * dx + cos_h * dy
        alpha = math.atan2(left, ahead)
        distance = max(1e-3, math.hypot(dx, dy))
        curvature = 2.0 * math.sin(alpha) / distance
        beta = math.asin(max(-1.0, min(1.0, curvature * physics.REAR_TO_CENTRE_M)))
        delta = math.atan(math.tan(beta) * physics.WHEELBASE_M / physics.REAR_TO_CENTRE_M)
        stick = -delta / physics.max_steer(speed)
        if self.noise > 0:
            # Smoothed noise: a hand on a stick wanders, it does not flicker every frame.
            self._jitter = 0.85 * self._jitter + float(self.rng.normal(0.0, self.noise)) * math.sqrt(1 - 0.85**2)
            if self._near_edge(game):
                # Edge guard: close to the edge and heading out, the expert stops wandering and
                # drifting and steers back with a firm hand (the recovery a human makes).
                self._jitter = 0.0
                if self._phase == "drift":
                    self._target_offset = 0.0
                    self._phase, self._phase_until = "cruise", game.sim_seconds + self._next_gap()
            stick += self._jitter
        stick = max(-1.0, min(1.0, stick))
        # Lift off (or brake) when the road ahead bends tighter than the kart can follow at this speed.
        needed = centre.max_curvature(game.s, 8.0 + 1.2 * speed)
        capacity = physics.max_curvature(speed)
        accelerate = needed < 0.75 * capacity and not hold_back
        brake = needed > 0.95 * capacity and speed > 6.0
        if self._pass_line is not None:
            self._target_offset = 0.0
        return Pad.from_normalised(stick, 0.0, a=accelerate and not brake, b=brake)

    @staticmethod
    def _near_edge(game: Game) -> bool:
        """Will the kart be within a metre of the edge in half a second at its current angle?"""
        drift = game.kart.speed * math.sin(game.heading_error()) * GUARD_HORIZON_S
        predicted = game.offset + drift
        room = game.track.half_width - physics.KART_HALF_WIDTH_M - GUARD_MARGIN_M
        return abs(predicted) > room or abs(game.offset) > room

    def close(self) -> None:
        pass
