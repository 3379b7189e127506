"""The sky panorama of a theme: gradient, stars and a horizon silhouette all around the compass.

Built once per run at the renderer's sky height; each frame the renderer picks, for each screen
column, the panorama column of the compass direction it looks along (so scenery scrolls with the
heading and costs one gather).
"""

from __future__ import annotations

import numpy as np

from tensorkart_simulator.themes import Theme

PANORAMA_W = 2048
SCENERY_SEED = 0x5CE7E


def _profile(theme: Theme, rng: np.random.Generator) -> np.ndarray:
    """Height in pixels of the silhouette for each panorama column."""
    angle = np.linspace(0.0, 2 * np.pi, PANORAMA_W, endpoint=False)
    h = theme.scenery_height
    if theme.scenery == "hills":
        shape = 1 + 0.6 * np.sin(3 * angle + 0.5) + 0.4 * np.sin(7 * angle + 1.3) + 0.25 * np.sin(13 * angle + 2.1)
    elif theme.scenery == "dunes":
        shape = 1 + 0.35 * np.sin(5 * angle + 0.2) + 0.2 * np.sin(11 * angle + 1.1)
    elif theme.scenery == "mountains":
        # Sharp peaks: sums of triangle waves with random phases.
        shape = np.zeros_like(angle)
        for freq, weight in ((4, 0.6), (9, 0.35), (19, 0.2)):
            phase = rng.uniform(0, 2 * np.pi)
            shape += weight * (1 - np.abs(((freq * angle + phase) / np.pi) % 2 - 1))
        shape = 0.3 + shape
    elif theme.scenery == "skyline":
        shape = np.zeros_like(angle)
        x = 0
        while x < PANORAMA_W:
            width = int(rng.integers(14, 48))
            shape[x : x + width] = rng.uniform(0.3, 1.5)
            x += width + int(rng.integers(0, 10))
    else:
        return np.zeros(PANORAMA_W)
    return np.maximum(shape * h, 1.0)


def panorama(theme: Theme, rows: int) -> np.ndarray:
    """(rows, PANORAMA_W, 3) uint8: sky rows 0..rows-1, the horizon at the bottom row."""
    rng = np.random.default_rng(SCENERY_SEED)
    t = np.linspace(0.0, 1.0, rows)[:, None]
    column = theme.lit("sky_top") * (1 - t) + theme.lit("sky_bottom") * t
    sky = np.repeat(column[:, None, :], PANORAMA_W, axis=1)
    if theme.stars > 0:
        stars = rng.random((rows, PANORAMA_W)) < theme.stars * (1 - t)
        sky[stars] = (235, 235, 250)
    height = _profile(theme, rng)
    above = np.arange(rows)[:, None]
    body = above >= rows - height[None, :]
    sky[body] = theme.lit("scenery")
    if theme.scenery == "mountains":
        caps = body & (above < rows - 0.75 * height[None, :]) & (height[None, :] > 0.6 * theme.scenery_height)
        sky[caps] = theme.lit("scenery_alt")
    elif theme.scenery == "skyline":
        windows = body & (rng.random(body.shape) < 0.12) & (above < rows - 2)
        sky[windows] = theme.lit("scenery_alt")
    elif theme.scenery in ("hills", "dunes"):
        shade = body & (above >= rows - 0.45 * height[None, :])
        sky[shade] = theme.lit("scenery_alt")
    return np.round(sky).astype(np.uint8)
