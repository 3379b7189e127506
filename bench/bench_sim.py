"""Practice track speed: frames/s at 640x480, headless, one process (renderer + physics + expert).

ours:  tensorkart_simulator's Mode-7 renderer (per-pixel ground mapping precomputed once, one
       rotate/translate + packed 4-byte gather per mip band per frame, 320x240 scaled x2).
naive: the same scene drawn the straightforward way, measured in the same run: every frame
       re-projects all 640x480 pixels onto the ground and gathers RGB triples from the level-0
       texture (no precomputation, no mip levels, no packing).
themed: ours with the `night` theme (stars, skyline, far ground) and 6 computer karts (traffic
       physics, contact checks, the expert overtaking, sprites scaled by distance); its batches
       alternate with the plain ones, so both see the same machine load.
The real game runs at 30 frames/s; a headless run needs well over that to train and evaluate fast.
Keys: sim_fps_headless, sim_fps_headless_theme_traffic, sim_fps_naive_full_res.
"""

from __future__ import annotations

import math
import os
import statistics
import time

import numpy as np

from tensorkart_simulator.drivers.expert import ExpertDriver
from tensorkart_simulator.game import Game
from tensorkart_simulator.render import CAMERA_BACK_M, CAMERA_HEIGHT_M, FOCAL_PX, HORIZON_ROW, Mode7Renderer
from tensorkart_simulator.themes import load_theme
from tensorkart_simulator.track import load_track
from tensorkart_simulator.traffic import Traffic

FRAMES = int(os.environ.get("BENCH_SIM_FRAMES", "300"))
BATCHES = 3
WARMUP = 30


THEMED_TRAFFIC = 6


def _setup(theme: str | None, traffic: int) -> tuple[Game, ExpertDriver, Mode7Renderer]:
    track = load_track("luigi")
    game = Game(track, traffic=Traffic(track, traffic, seed=0) if traffic else None)
    expert = ExpertDriver(seed=0)
    renderer = Mode7Renderer(game, hud=True, theme=load_theme(theme) if theme else None)
    for _ in range(WARMUP):
        renderer.render()
        game.step(expert.act(game))
    return game, expert, renderer


def _batch(setup: tuple[Game, ExpertDriver, Mode7Renderer], frames: int) -> float:
    game, expert, renderer = setup
    started = time.perf_counter()
    for _ in range(frames):
        renderer.render()
        game.step(expert.act(game))
    return frames / (time.perf_counter() - started)


def ours(frames: int) -> tuple[list[float], list[float]]:
    """Frames/s of the plain track and of night + traffic, batches interleaved."""
    plain = _setup(None, 0)
    themed = _setup("night", THEMED_TRAFFIC)
    plain_rates, themed_rates = [], []
    for _ in range(BATCHES):
        plain_rates.append(_batch(plain, frames))
        themed_rates.append(_batch(themed, frames))
    return plain_rates, themed_rates


def naive_render(game: Game, texture: np.ndarray, origin: tuple[float, float], ppm: float) -> np.ndarray:
    """Full-resolution Mode-7 with everything recomputed per frame."""
    height, width = 480, 640
    focal, horizon = FOCAL_PX * 2, HORIZON_ROW * 2
    out = np.empty((height, width, 3), dtype=np.uint8)
    out[: horizon + 1] = (120, 170, 240)
    rows = np.arange(horizon + 1, height)[:, None] + 0.5 - horizon
    cols = np.arange(width)[None, :] + 0.5 - width / 2
    ahead = CAMERA_HEIGHT_M * focal / rows * np.ones_like(cols)
    right = cols * ahead / focal
    kart = game.kart
    cos_h, sin_h = math.cos(kart.heading), math.sin(kart.heading)
    cam_x = kart.x - CAMERA_BACK_M * cos_h
    cam_y = kart.y - CAMERA_BACK_M * sin_h
    wx = cam_x + ahead * cos_h + right * sin_h
    wy = cam_y + ahead * sin_h - right * cos_h
    ix = np.clip(((wx - origin[0]) * ppm).astype(np.int64) + 1, 0, texture.shape[1] - 1)
    iy = np.clip(((wy - origin[1]) * ppm).astype(np.int64) + 1, 0, texture.shape[0] - 1)
    out[horizon + 1 :] = texture[iy, ix]
    return out


def naive(frames: int) -> list[float]:
    game = Game(load_track("luigi"))
    expert = ExpertDriver(seed=0)
    texture = Mode7Renderer(game).texture
    level0 = texture.levels[0]
    rates = []
    for _ in range(BATCHES):
        started = time.perf_counter()
        for _ in range(frames):
            naive_render(game, level0, texture.origin, texture.pixels_per_metre)
            game.step(expert.act(game))
        rates.append(frames / (time.perf_counter() - started))
    return rates


def run() -> dict[str, float]:
    fast, themed = ours(FRAMES)
    slow = naive(max(30, FRAMES // 5))
    return {
        "sim_fps_headless": round(statistics.median(fast), 1),
        "sim_fps_headless_theme_traffic": round(statistics.median(themed), 1),
        "sim_fps_naive_full_res": round(statistics.median(slow), 1),
    }


if __name__ == "__main__":
    print(run())
