"""The automated DAgger supervisor: the expert watches another driver (a model) and takes over as a
human holding LB would.

It takes over when the kart is about to leave the road (at its current angle it would be within
TAKEOVER_MARGIN_M of the edge in LOOK_AHEAD_S, or already is), is pointing well away from the
road's direction, or has almost stopped; it hands back once the kart is recovered: near the centre
line, heading along the road and at speed for HANDBACK_S. What it would press goes out on the
frame feed with every frame, `lb` set while it has control, so the edge relay (`--human frame`)
pushes it to the controller as human steering and records those frames as an interventions
dataset (Ross et al. 2011's DAgger with the expert as the human).
"""

from __future__ import annotations

import math

from tensorkart_simulator import physics
from tensorkart_simulator.drivers.expert import ExpertDriver
from tensorkart_simulator.game import Game
from tensorkart_simulator.pad import Pad

LOOK_AHEAD_S = 0.5
TAKEOVER_MARGIN_M = 1.0  # predicted distance of the kart's side from the edge that triggers a takeover
TAKEOVER_HEADING_RAD = 0.7
SLOW_MPS = 2.0  # below this (after the start) the kart counts as stopping
HANDBACK_OFFSET_M = 1.5
HANDBACK_HEADING_RAD = 0.12
HANDBACK_SPEED_MPS = 8.0
HANDBACK_S = 0.5
START_GRACE_S = 3.0


class ExpertTakeover:
    def __init__(self, seed: int = 0) -> None:
        # No noise and no drift: the supervisor shows the clean recovery.
        self.expert = ExpertDriver(seed=seed, noise=0.0, manoeuvres=False)
        self.active = False
        self.takeovers = 0
        self.frames = 0
        self._calm_frames = 0

    def about_to_leave(self, game: Game) -> bool:
        heading_error = game.heading_error()
        predicted = game.offset + game.kart.speed * math.sin(heading_error) * LOOK_AHEAD_S
        edge = game.track.half_width - physics.KART_HALF_WIDTH_M - TAKEOVER_MARGIN_M
        if abs(predicted) > edge or abs(game.offset) > edge:
            return True
        if abs(heading_error) > TAKEOVER_HEADING_RAD:
            return True
        return game.sim_seconds > START_GRACE_S and game.kart.speed < SLOW_MPS

    def recovered(self, game: Game) -> bool:
        return (
            abs(game.offset) < HANDBACK_OFFSET_M
            and abs(game.heading_error()) < HANDBACK_HEADING_RAD
            and game.kart.speed > HANDBACK_SPEED_MPS
        )

    def advise(self, game: Game) -> tuple[Pad, bool]:
        """What the expert would press for the current frame, and whether it has control (LB)."""
        pad = self.expert.act(game)
        if not self.active:
            if self.about_to_leave(game):
                self.active, self._calm_frames = True, 0
                self.takeovers += 1
        else:
            self._calm_frames = self._calm_frames + 1 if self.recovered(game) else 0
            if self._calm_frames >= round(HANDBACK_S * physics.STEP_HZ):
                self.active = False
        if self.active:
            self.frames += 1
        return pad, self.active
