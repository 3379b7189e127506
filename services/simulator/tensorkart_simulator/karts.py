"""Draws the computer karts: the kart sprite in each kart's colours, scaled by its distance.

A kart at ground position (x, y) is projected like the ground itself (same focal length, camera
height and horizon as the Mode-7 renderer): its wheels sit on the ground row of its distance and
its size falls as 1 / distance. Scaled sprites are made on first use and cached by width.
"""

from __future__ import annotations

import math

import numpy as np

from tensorkart_simulator.sprites import KART_H, KART_W, kart_sprite
from tensorkart_simulator.themes import Theme

BODY = (220, 30, 30)
PALETTE = ((40, 170, 60), (240, 200, 20), (40, 90, 230), (150, 60, 200), (250, 130, 190), (240, 240, 240))
SPRITE_DISTANCE_M = 6.0  # distance at which a sprite is drawn at its full size
NEAR_M, FAR_M = 2.5, 150.0
MIN_WIDTH_PX = 3


class KartPainter:
    def __init__(self, focal_px: float, camera_height_m: float, horizon_row: int, theme: Theme) -> None:
        self.focal = focal_px
        self.camera_height = camera_height_m
        self.horizon = horizon_row
        base_rgb, base_mask = kart_sprite(0)
        shadow = base_mask & (base_rgb == (30, 70, 30)).all(axis=2)
        base_rgb = base_rgb.copy()
        base_rgb[shadow] = (theme.lit("road") * 0.5).astype(np.uint8)
        body = (base_rgb == BODY).all(axis=2)
        self.bases = []
        for colour in PALETTE:
            rgb = base_rgb.copy()
            rgb[body] = colour
            self.bases.append((rgb, base_mask))
        self.cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def _sprite(self, colour: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        key = (colour % len(self.bases), width)
        sprite = self.cache.get(key)
        if sprite is None:
            rgb, mask = self.bases[key[0]]
            height = max(2, round(width * KART_H / KART_W))
            rows = (np.arange(height) * KART_H / height).astype(np.int64)
            cols = (np.arange(width) * KART_W / width).astype(np.int64)
            sprite = (rgb[rows][:, cols], mask[rows][:, cols])
            self.cache[key] = sprite
        return sprite

    def draw(
        self,
        image: np.ndarray,
        karts: list[tuple[float, float, float, int]],
        cam_x: float,
        cam_y: float,
        heading: float,
    ) -> None:
        """Draw `karts` (x, y, heading, colour) into `image` (H, W, 3), farthest first."""
        cos_h, sin_h = math.cos(heading), math.sin(heading)
        height, width = image.shape[:2]
        visible = []
        for x, y, _kart_heading, colour in karts:
            dx, dy = x - cam_x, y - cam_y
            ahead = dx * cos_h + dy * sin_h
            right = dx * sin_h - dy * cos_h
            if NEAR_M < ahead < FAR_M:
                visible.append((ahead, right, colour))
        for ahead, right, colour in sorted(visible, reverse=True):
            size = round(KART_W * SPRITE_DISTANCE_M / ahead)
            if size < MIN_WIDTH_PX:
                continue
            rgb, mask = self._sprite(colour, size)
            bottom = round(self.horizon + self.camera_height * self.focal / ahead)
            centre = round(width / 2 + right * self.focal / ahead)
            top, left = bottom - rgb.shape[0], centre - rgb.shape[1] // 2
            t0, l0 = max(top, 0), max(left, 0)
            t1, l1 = min(bottom, height), min(left + rgb.shape[1], width)
            if t0 >= t1 or l0 >= l1:
                continue
            region = image[t0:t1, l0:l1]
            part = (slice(t0 - top, t1 - top), slice(l0 - left, l1 - left))
            region[mask[part]] = rgb[part][mask[part]]
