"""Pre-rasterises a track into a top-down ground texture (with mip levels) for the Mode-7 renderer.

Every texel near the road gets its distance from the centre line and the arc length of its
nearest centre-line point; colours follow from those: asphalt, white edge lines, red/white
curbs, the chequered start/finish line, and two-tone grass everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tensorkart_simulator.track import Track

DEFAULT_THEME: dict[str, tuple[int, int, int]] = {
    "grass": (64, 168, 56),
    "grass_alt": (52, 148, 48),
    "road": (100, 100, 108),
    "line": (245, 245, 245),
    "curb_red": (214, 36, 36),
    "curb_white": (245, 245, 245),
    "sky_top": (36, 96, 216),
    "sky_bottom": (156, 204, 255),
    "hills": (44, 112, 84),
}
MAX_TEXELS_PER_SIDE = 2048
BASE_PIXELS_PER_METRE = 4.0
MARGIN_M = 60.0
EDGE_LINE_M = (1.6, 1.25)  # white line between these distances inside the road edge
CURB_M = 0.9  # red/white curb on the outermost 0.9 m of the road
CURB_STRIPE_M = 2.0
START_LINE_M = 2.0
CHECKER_M = 0.75
GRASS_TILE_M = 4.0
MIP_LEVELS = 5


@dataclass
class GroundTexture:
    """Mip levels of the ground, each padded by one grass texel that stands in for 'beyond the map'."""

    levels: list[np.ndarray]  # (H_k, W_k, 3) uint8
    flat: list[np.ndarray]  # the same, reshaped (H_k * W_k, 3)
    origin: tuple[float, float]  # world (x, y) of texel (0, 0) of level 0, before padding
    pixels_per_metre: float
    theme: dict[str, tuple[int, int, int]]


def theme_for(track: Track) -> dict[str, tuple[int, int, int]]:
    return {**DEFAULT_THEME, **track.theme}


def nearest_centre(track: Track, xs: np.ndarray, ys: np.ndarray, reach: float) -> tuple[np.ndarray, ...]:
    """For a texel grid, distance to the centre line (inf beyond `reach`), arc length and signed offset."""
    centre = track.centre
    height, width = len(ys), len(xs)
    ppm = 1.0 / (xs[1] - xs[0])
    key = np.full(height * width, np.iinfo(np.int64).max, dtype=np.int64)
    radius = int(np.ceil((reach + centre.spacing) * ppm))
    offsets = np.arange(-radius, radius + 1)
    oy, ox = (g.ravel() for g in np.meshgrid(offsets, offsets, indexing="ij"))
    # Stamp each segment's neighbourhood; the key packs millimetres and segment index so one
    # np.minimum.at keeps both the smallest distance and the segment that gave it.
    for start in range(0, centre.count, 64):
        seg = np.arange(start, min(start + 64, centre.count))
        a = centre.points[seg]
        cx = np.round((a[:, 0] - xs[0]) * ppm).astype(np.int64)
        cy = np.round((a[:, 1] - ys[0]) * ppm).astype(np.int64)
        tx = cx[:, None] + ox[None, :]
        ty = cy[:, None] + oy[None, :]
        inside = (tx >= 0) & (tx < width) & (ty >= 0) & (ty < height)
        px = xs[0] + tx / ppm - a[:, 0:1]
        py = ys[0] + ty / ppm - a[:, 1:2]
        t = centre.tangents[seg]
        along = np.clip(px * t[:, 0:1] + py * t[:, 1:2], 0.0, centre.seg_length[seg][:, None])
        dist = np.hypot(px - along * t[:, 0:1], py - along * t[:, 1:2])
        keep = inside & (dist <= reach)
        packed = (np.round(dist * 1000).astype(np.int64) << 20) | seg[:, None]
        np.minimum.at(key, (ty * width + tx)[keep], packed[keep])
    found = key != np.iinfo(np.int64).max
    dist = np.full(height * width, np.inf)
    s = np.zeros(height * width)
    signed = np.zeros(height * width)
    seg = (key[found] & ((1 << 20) - 1)).astype(np.int64)
    gx, gy = np.meshgrid(xs, ys)
    rel = np.stack([gx.ravel()[found], gy.ravel()[found]], axis=1) - centre.points[seg]
    along = np.einsum("ij,ij->i", rel, centre.tangents[seg])
    dist[found] = (key[found] >> 20) / 1000.0
    s[found] = (centre.s[seg] + along) % centre.length
    signed[found] = np.einsum("ij,ij->i", rel, centre.normals[seg])
    return dist.reshape(height, width), s.reshape(height, width), signed.reshape(height, width)


def rasterise(track: Track) -> GroundTexture:
    """Colour every texel of the ground around the track (level 0) and build the mip chain."""
    theme = theme_for(track)
    lo = track.centre.points.min(axis=0) - MARGIN_M
    hi = track.centre.points.max(axis=0) + MARGIN_M
    ppm = min(BASE_PIXELS_PER_METRE, MAX_TEXELS_PER_SIDE / float((hi - lo).max()))
    xs = lo[0] + (np.arange(int(np.ceil((hi[0] - lo[0]) * ppm))) + 0.5) / ppm
    ys = lo[1] + (np.arange(int(np.ceil((hi[1] - lo[1]) * ppm))) + 0.5) / ppm
    half = track.half_width
    dist, s, signed = nearest_centre(track, xs, ys, reach=half + 1.0)

    gx, gy = np.meshgrid(xs, ys)
    tile = (np.floor(gx / GRASS_TILE_M) + np.floor(gy / GRASS_TILE_M)).astype(np.int64) & 1
    image = np.where(tile[..., None] == 0, theme["grass"], theme["grass_alt"]).astype(np.uint8)
    road = dist <= half
    image[road] = theme["road"]
    line = road & (dist > half - EDGE_LINE_M[0]) & (dist <= half - EDGE_LINE_M[1])
    image[line] = theme["line"]
    curb = road & (dist > half - CURB_M)
    stripe = (np.floor(s / CURB_STRIPE_M).astype(np.int64) & 1) == 0
    image[curb & stripe] = theme["curb_red"]
    image[curb & ~stripe] = theme["curb_white"]
    start = road & (dist <= half - EDGE_LINE_M[0]) & (s < START_LINE_M)
    checker = (np.floor(s / CHECKER_M).astype(np.int64) + np.floor(signed / CHECKER_M).astype(np.int64)) & 1
    image[start & (checker == 0)] = (20, 20, 20)
    image[start & (checker == 1)] = (245, 245, 245)

    grass_mean = ((np.array(theme["grass"]) + np.array(theme["grass_alt"])) // 2).astype(np.uint8)
    levels = []
    current = image.astype(np.float32)
    for _ in range(MIP_LEVELS):
        padded = np.empty((current.shape[0] + 2, current.shape[1] + 2, 3), dtype=np.uint8)
        padded[:] = grass_mean
        padded[1:-1, 1:-1] = np.round(current).astype(np.uint8)
        levels.append(padded)
        h, w = (current.shape[0] // 2) * 2, (current.shape[1] // 2) * 2
        current = current[:h, :w].reshape(h // 2, 2, w // 2, 2, 3).mean(axis=(1, 3))
    return GroundTexture(
        levels=levels,
        flat=[level.reshape(-1, 3) for level in levels],
        origin=(float(lo[0]), float(lo[1])),
        pixels_per_metre=ppm,
        theme=theme,
    )
