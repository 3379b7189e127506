"""Computer karts: varied pace and line, sprites scaled by distance, contact slows and shoves,
the expert overtakes without touching them, and interventions still count."""

from __future__ import annotations

import numpy as np
import pytest

from tensorkart_simulator.drivers.expert import ExpertDriver
from tensorkart_simulator.game import Game
from tensorkart_simulator.karts import PALETTE
from tensorkart_simulator.pad import Pad
from tensorkart_simulator.render import Mode7Renderer
from tensorkart_simulator.track import BUILTIN_TRACKS, load_track
from tensorkart_simulator.traffic import Traffic


def test_karts_drive_at_varied_speeds_and_lines_and_stay_on_the_road() -> None:
    track = load_track("heldout")
    traffic = Traffic(track, 6, seed=3)
    assert len({round(k.pace, 3) for k in traffic.karts}) == 6
    assert np.ptp([k.line for k in traffic.karts]) > 2.0
    start = [k.s for k in traffic.karts]
    for _ in range(30 * 20):
        traffic.step()
        for kart in traffic.karts:
            assert abs(kart.offset) < track.half_width - 0.6
    moved = [(k.s - s) % track.centre.length for k, s in zip(traffic.karts, start, strict=True)]
    assert min(moved) > 30.0
    assert Traffic(track, 6, seed=3).karts == Traffic(track, 6, seed=3).karts
    assert Traffic(track, 6, seed=3).karts != Traffic(track, 6, seed=4).karts


def _kart_ahead(game: Game, distance: float, offset: float = 0.0) -> None:
    assert game.traffic is not None
    kart = game.traffic.karts[0]
    kart.s, kart.line, kart.wander_m, kart.pace = game.s + distance, offset, 1e9, 0.3
    kart.wander_phase, kart.speed = 0.0, 3.0
    kart.offset = offset


def test_running_into_a_kart_slows_and_shoves() -> None:
    track = load_track("luigi")  # starts on a long straight
    game = Game(track, traffic=Traffic(track, 1, seed=0))
    _kart_ahead(game, 40.0, offset=0.3)
    while game.contacts == 0:
        speed = game.kart.speed
        # Hold the centre line (a simple lane keeper that ignores traffic).
        stick = max(-1.0, min(1.0, 2.0 * game.heading_error() + 0.3 * game.offset))
        game.step(Pad.from_normalised(stick, 0.0, a=True))
        assert game.frame < 30 * 10, "never reached the kart ahead"
    assert game.kart.speed < speed * 0.8  # slowed by the contact
    assert game.offset < -0.5  # shoved away from the kart's side (it was to the left)
    assert game.interventions == 0


def _coloured_pixels(frame: np.ndarray, colour: tuple[int, int, int]) -> int:
    return int(np.all(frame == colour, axis=2).sum())


def _coloured_width(frame: np.ndarray, colour: tuple[int, int, int]) -> int:
    columns = np.flatnonzero(np.all(frame == colour, axis=2).any(axis=0))
    return int(columns[-1] - columns[0] + 1) if len(columns) else 0


def test_sprites_are_drawn_and_scaled_by_distance() -> None:
    track = load_track("luigi")
    sizes = []
    for distance in (8.0, 24.0):
        game = Game(track, traffic=Traffic(track, 1, seed=0))
        _kart_ahead(game, distance)
        frame = Mode7Renderer(game, hud=False).render()
        sizes.append(_coloured_width(frame, PALETTE[0]))
    # 14 m and 30 m from the camera (6 m behind the kart): width falls as 1 / distance.
    assert sizes[0] / sizes[1] == pytest.approx(30 / 14, rel=0.2)
    game = Game(track, traffic=Traffic(track, 1, seed=0))
    _kart_ahead(game, -30.0)  # behind the camera: not drawn
    assert _coloured_pixels(Mode7Renderer(game, hud=False).render(), PALETTE[0]) == 0


@pytest.mark.parametrize("track_name", BUILTIN_TRACKS)
@pytest.mark.parametrize("count", [3, 12])
def test_expert_overtakes_cleanly(track_name: str, count: int) -> None:
    track = load_track(track_name)
    game = Game(track, traffic=Traffic(track, count, seed=1))
    expert = ExpertDriver(seed=1)
    assert game.traffic is not None
    start = [k.s for k in game.traffic.karts]
    laps_driven = [0.0] * count
    while game.laps < 2:
        game.step(expert.act(game))
        assert game.frame < 30 * 120
    for i, kart in enumerate(game.traffic.karts):
        laps_driven[i] = (kart.s - start[i]) % track.centre.length
    # Every computer kart was lapped less than once while the expert drove two laps: it passed them all.
    assert all(d < track.centre.length for d in laps_driven)
    assert game.contacts == 0
    assert game.interventions == 0, game.intervention_log


def test_interventions_still_count_with_traffic() -> None:
    track = load_track("luigi")
    game = Game(track, traffic=Traffic(track, 4, seed=0))
    while game.interventions == 0:
        game.step(Pad(x_axis=-80, a=True))
        assert game.frame < 30 * 20
    assert game.intervention_log[0][1] == "off road"
    frame = game.frame
    for _ in range(int(3.2 * 30)):
        game.step(Pad())
    assert game.intervention_log[-1] == (frame + 90, "stuck")
