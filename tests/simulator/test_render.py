"""The Mode-7 picture: size, sky, road ahead, kart sprite, HUD on/off; the gamepad driver's error."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from tensorkart_simulator.game import Game
from tensorkart_simulator.render import Mode7Renderer
from tensorkart_simulator.themes import load_theme
from tensorkart_simulator.track import load_track

RACEWAY = load_theme("raceway").colours


def test_frame_shows_sky_road_and_kart() -> None:
    game = Game(load_track("luigi"))
    frame = Mode7Renderer(game, hud=False).render()
    assert frame.shape == (480, 640, 3)
    assert frame.dtype == np.uint8
    assert tuple(frame[0, 320]) == RACEWAY["sky_top"]
    # On the centre line at the start, the ground right in front of the camera is all road (with grain).
    assert all(tuple(frame[470, x]) in {RACEWAY["road"], RACEWAY["road_alt"]} for x in (5, 200, 630))
    # The kart sprite (red body) at the bottom centre.
    body = frame[400:440, 280:360].reshape(-1, 3)
    assert np.any(np.all(body == (220, 30, 30), axis=1))
    # Grass appears to the sides further ahead (the road is 13 m wide).
    row = frame[250]
    grass = {RACEWAY["offroad"], RACEWAY["offroad_alt"]}
    assert any(tuple(p) in grass for p in row[:100]) and any(tuple(p) in grass for p in row[-100:])


def test_hud_only_touches_its_corners() -> None:
    game = Game(load_track("twists"))
    with_hud = Mode7Renderer(game, hud=True, laps=3).render()
    without = Mode7Renderer(game, hud=False).render()
    changed = np.any(with_hud != without, axis=2)
    assert changed.any()
    rows, cols = np.nonzero(changed)
    top = rows < 40
    bottom_left = (rows >= 440) & (cols < 320)
    assert np.all(top | bottom_left)


def test_turning_the_kart_turns_the_view() -> None:
    game = Game(load_track("luigi"))
    renderer = Mode7Renderer(game, hud=False)
    straight = renderer.render()
    game.kart.heading += 0.3
    turned = renderer.render()
    assert not np.array_equal(straight[200:380], turned[200:380])
    assert np.array_equal(straight[:40], turned[:40])  # the sky gradient above the hills stays


def test_gamepad_driver_without_a_gamepad_says_so() -> None:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_JOYSTICK_DEVICE": "/dev/null"}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tensorkart_simulator",
            "run",
            "--headless",
            "--driver",
            "gamepad",
            "--max-seconds",
            "1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert completed.returncode != 0
    assert "no gamepad found" in completed.stderr
