"""Mode-7 renderer: the ground plane seen from a camera behind the kart, as in Mario Kart 64.

At start-up every screen pixel below the horizon gets its ground position in camera space
(metres ahead, metres to the right) and a mip level from its footprint. Each frame is then one
rotate + translate of those coordinates into the track texture and one gather per mip band,
plus the theme's sky panorama (scrolling with the heading), the computer karts (sprites scaled
by distance), the kart sprite, an optional HUD, and a 2x upscale to 640x480.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tensorkart_simulator.game import Game
from tensorkart_simulator.karts import KartPainter
from tensorkart_simulator.scenery import PANORAMA_W, panorama
from tensorkart_simulator.sprites import KART_H, KART_SPRITES, KART_W, draw_text
from tensorkart_simulator.texture import GroundTexture, rasterise
from tensorkart_simulator.themes import Theme, theme_for_run

OUT_W, OUT_H = 640, 480
SCALE = 2
W, H = OUT_W // SCALE, OUT_H // SCALE
HORIZON_ROW = 84
FOCAL_PX = 230.0  # about 70 degrees of horizontal field of view at 320 px
CAMERA_HEIGHT_M = 2.6
CAMERA_BACK_M = 6.0  # camera distance behind the kart's centre
HAZE_M = (90.0, 260.0)  # ground fades into the sky colour between these distances


def pack(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 (..., 3) -> uint32 words whose bytes in memory are R, G, B, 0 (any byte order)."""
    rgb = np.asarray(rgb, dtype=np.uint8)
    words = np.zeros((*rgb.shape[:-1], 4), dtype=np.uint8)
    words[..., :3] = rgb
    return words.view(np.uint32).reshape(rgb.shape[:-1])


@dataclass
class _Band:
    """Rows of the screen that sample one mip level."""

    rows: slice
    level: int
    ahead: np.ndarray  # metres ahead of the camera * level texels per metre, flattened
    right: np.ndarray  # metres to the right * level texels per metre, flattened


class Mode7Renderer:
    """Renders a Game's current state to a 480x640x3 uint8 frame."""

    def __init__(self, game: Game, hud: bool = True, laps: int = 0, theme: Theme | None = None) -> None:
        self.game = game
        self.hud = hud
        self.laps = laps  # shown as "LAP n/laps" when set
        track = game.track
        if theme is None:
            theme = theme_for_run(None, track.default_theme, track.source, track.theme)
        self.theme = theme
        self.texture: GroundTexture = rasterise(track, theme)
        self.panorama_packed = pack(panorama(theme, HORIZON_ROW + 1))
        columns = np.arange(W) + 0.5 - W / 2
        self.column_angle = np.arctan(columns / FOCAL_PX)
        rows = np.arange(HORIZON_ROW + 1, H) + 0.5 - HORIZON_ROW
        ahead = CAMERA_HEIGHT_M * FOCAL_PX / rows  # per row
        ppm = self.texture.pixels_per_metre
        # Texels a pixel covers on the ground at that depth -> mip level (bands of whole rows). The
        # footprint is long and thin (depth grows fast per row near the horizon); the geometric mean
        # of its two sides trades a little blur for much less shimmer.
        across = ahead / FOCAL_PX
        along = ahead**2 / (CAMERA_HEIGHT_M * FOCAL_PX)
        footprint = np.sqrt(across * along) * ppm
        levels = np.clip(np.floor(np.log2(np.maximum(footprint, 1.0))), 0, len(self.texture.levels) - 1).astype(int)
        self.bands: list[_Band] = []
        first = HORIZON_ROW + 1
        for level in sorted(set(levels.tolist()), reverse=True):
            idx = np.flatnonzero(levels == level)
            rows_slice = slice(first + idx[0], first + idx[-1] + 1)
            scale = ppm / 2**level
            z = np.repeat(ahead[idx], W)
            x = np.tile(columns, len(idx)) * z / FOCAL_PX
            self.bands.append(_Band(rows_slice, level, (z * scale).astype(np.float32), (x * scale).astype(np.float32)))
        haze = np.clip((ahead - HAZE_M[0]) / (HAZE_M[1] - HAZE_M[0]), 0.0, 1.0)
        self.haze_rows = int(np.count_nonzero(haze > 0))
        self.haze = haze[: self.haze_rows, None, None].astype(np.float32)
        self.haze_colour = theme.lit("sky_bottom").astype(np.float32)
        # The frame is composed as packed RGBX words: one 4-byte gather per pixel is much faster
        # than gathering 3-byte RGB triples.
        self.packed = np.zeros((H, W), dtype=np.uint32)
        self.small = self.packed.view(np.uint8).reshape(H, W, 4)
        self.wide_rgb = np.empty((H, OUT_W, 3), dtype=np.uint8)
        self.texture_packed = [pack(level).ravel() for level in self.texture.levels]
        self.karts = KartPainter(FOCAL_PX, CAMERA_HEIGHT_M, HORIZON_ROW, theme)

    def render(self) -> np.ndarray:
        """The current frame: (480, 640, 3) uint8, a new array each call."""
        game = self.game
        kart = game.kart
        packed = self.packed
        heading = kart.heading
        cos_h, sin_h = math.cos(heading), math.sin(heading)
        ox, oy = self.texture.origin
        cam_x = kart.x - CAMERA_BACK_M * cos_h
        cam_y = kart.y - CAMERA_BACK_M * sin_h
        ppm = self.texture.pixels_per_metre

        # Sky and scenery: each column shows the panorama column of the compass direction it looks along.
        direction = (heading - self.column_angle) % (2 * np.pi)
        columns = (direction * (PANORAMA_W / (2 * np.pi))).astype(np.int64) % PANORAMA_W
        packed[: HORIZON_ROW + 1] = self.panorama_packed[:, columns]

        # Ground: rotate the precomputed camera-space coordinates, translate, gather.
        for band in self.bands:
            scale = ppm / 2**band.level
            tex = self.texture.levels[band.level]
            th, tw = tex.shape[:2]
            base_x = (cam_x - ox) * scale + 1.0
            base_y = (cam_y - oy) * scale + 1.0
            # right-hand direction of the camera is (sin h, -cos h)
            tx = base_x + band.ahead * cos_h + band.right * sin_h
            ty = base_y + band.ahead * sin_h - band.right * cos_h
            # Anything off the map lands on the texture's one-texel grass border.
            ix = tx.astype(np.int32)
            iy = ty.astype(np.int32)
            np.clip(ix, 0, tw - 1, out=ix)
            np.clip(iy, 0, th - 1, out=iy)
            iy *= tw
            iy += ix
            packed[band.rows] = self.texture_packed[band.level].take(iy).reshape(-1, W)
        rgb = self.small[..., :3]
        if self.haze_rows:
            top = HORIZON_ROW + 1
            region = rgb[top : top + self.haze_rows].astype(np.float32)
            region += (self.haze_colour - region) * self.haze
            rgb[top : top + self.haze_rows] = region.astype(np.uint8)

        if game.traffic is not None:
            self.karts.draw(rgb, game.traffic.world_positions(), cam_x, cam_y, heading)
        self._draw_kart(rgb, game)
        if self.hud:
            self._draw_hud(rgb, game, self.laps)
        # Upscale: widen as packed words, unpack one channel at a time (long strided runs are
        # far faster than copying 3-byte triples), then repeat whole rows.
        wide = np.repeat(packed, SCALE, axis=1).view(np.uint8).reshape(H, OUT_W, 4)
        for channel in range(3):
            self.wide_rgb[..., channel] = wide[..., channel]
        out = np.empty((OUT_H, OUT_W, 3), dtype=np.uint8)
        out.reshape(H, SCALE, OUT_W, 3)[:] = self.wide_rgb[:, None]
        return out

    @staticmethod
    def _draw_kart(small: np.ndarray, game: Game) -> None:
        steer = game.last_pad.steer
        lean = -1 if steer < -0.3 else (1 if steer > 0.3 else 0)
        rgb, mask = KART_SPRITES[lean]
        top = H - KART_H - 14
        left = (W - KART_W) // 2
        region = small[top : top + KART_H, left : left + KART_W]
        region[mask] = rgb[mask]

    @staticmethod
    def _draw_hud(small: np.ndarray, game: Game, laps: int) -> None:
        lap = min(game.laps + 1, laps) if laps else min(game.laps + 1, 999)
        draw_text(small, f"LAP {lap}/{laps}" if laps else f"LAP {lap}", 6, 6)
        seconds = game.lap_seconds
        draw_text(small, f"{int(seconds // 60)}:{seconds % 60:05.2f}", W - 8 * 7 - 6, 6)
        draw_text(small, f"{game.speed_kmh():3.0f} KM/H", 6, H - 16)
