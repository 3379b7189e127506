"""Pre-rasterises a track into a top-down ground texture (with mip levels) for the Mode-7 renderer.

Every texel near the road gets its distance from the centre line and the arc length of its
nearest centre-line point; colours follow from those and the theme: road (with grain), edge
lines, borders (curbs or solid), the chequered start/finish line, the off-road pattern
(squares, stripes or blotches) and, far from the road, the theme's `far` ground (sea, void).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tensorkart_simulator.themes import Theme
from tensorkart_simulator.track import Track

MAX_TEXELS_PER_SIDE = 2048
BASE_PIXELS_PER_METRE = 4.0
MARGIN_M = 60.0
EDGE_LINE_M = (1.6, 1.25)  # white line between these distances inside the road edge
CURB_M = 0.9  # red/white curb on the outermost 0.9 m of the road
CURB_STRIPE_M = 2.0
START_LINE_M = 2.0
CHECKER_M = 0.75
MIP_LEVELS = 5
FAR_GRID_M = 2.0  # the far-ground boundary is found on a coarse grid, then scaled up
TEXTURE_SEED = 0x5EED  # grain and blotches are the same in every run of a (track, theme)


@dataclass
class GroundTexture:
    """Mip levels of the ground, each padded by one grass texel that stands in for 'beyond the map'."""

    levels: list[np.ndarray]  # (H_k, W_k, 3) uint8
    flat: list[np.ndarray]  # the same, reshaped (H_k * W_k, 3)
    origin: tuple[float, float]  # world (x, y) of texel (0, 0) of level 0, before padding
    pixels_per_metre: float
    theme: Theme


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


def _offroad(theme: Theme, gx: np.ndarray, gy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Boolean: which off-road texels take the `offroad_alt` colour."""
    tile = theme.tile_m
    if theme.offroad_pattern == "stripes":
        alt = (np.floor((gx + gy) / tile).astype(np.int64) & 1) == 1
    elif theme.offroad_pattern == "blotches":
        # Value noise: random values on a coarse grid, bilinearly interpolated, thresholded.
        x0, y0 = gx[0, 0], gy[0, 0]
        u, v = (gx - x0) / tile, (gy - y0) / tile
        grid = rng.random((int(v.max()) + 2, int(u.max()) + 2))
        iu, iv = u.astype(np.int64), v.astype(np.int64)
        fu, fv = u - iu, v - iv
        top = grid[iv, iu] * (1 - fu) + grid[iv, iu + 1] * fu
        bottom = grid[iv + 1, iu] * (1 - fu) + grid[iv + 1, iu + 1] * fu
        alt = (top * (1 - fv) + bottom * fv) > 0.5
    else:
        alt = ((np.floor(gx / tile) + np.floor(gy / tile)).astype(np.int64) & 1) == 1
    if theme.offroad_grain > 0:
        alt ^= rng.random(alt.shape) < theme.offroad_grain * 0.3
    return alt


def _far(track: Track, theme: Theme, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Boolean: texels more than far_m beyond the road edge (found on a coarse grid)."""
    step = FAR_GRID_M
    cx = np.arange(xs[0], xs[-1] + step, step)
    cy = np.arange(ys[0], ys[-1] + step, step)
    reach = track.half_width + theme.far_m
    dist, _, _ = nearest_centre(track, cx, cy, reach=reach + step)
    far = dist > reach
    ix = np.minimum(((xs - xs[0]) / step).round().astype(np.int64), len(cx) - 1)
    iy = np.minimum(((ys - ys[0]) / step).round().astype(np.int64), len(cy) - 1)
    return far[iy[:, None], ix[None, :]]


def rasterise(track: Track, theme: Theme) -> GroundTexture:
    """Colour every texel of the ground around the track (level 0) and build the mip chain."""
    rng = np.random.default_rng(TEXTURE_SEED)
    lo = track.centre.points.min(axis=0) - MARGIN_M
    hi = track.centre.points.max(axis=0) + MARGIN_M
    ppm = min(BASE_PIXELS_PER_METRE, MAX_TEXELS_PER_SIDE / float((hi - lo).max()))
    xs = lo[0] + (np.arange(int(np.ceil((hi[0] - lo[0]) * ppm))) + 0.5) / ppm
    ys = lo[1] + (np.arange(int(np.ceil((hi[1] - lo[1]) * ppm))) + 0.5) / ppm
    half = track.half_width
    dist, s, signed = nearest_centre(track, xs, ys, reach=half + 1.0)

    gx, gy = np.meshgrid(xs, ys)
    colour = theme.lit_u8
    image = np.where(_offroad(theme, gx, gy, rng)[..., None], colour("offroad_alt"), colour("offroad")).astype(np.uint8)
    far = None
    if theme.far_m > 0:
        far = _far(track, theme, xs, ys)
        image[far] = colour("far")
    road = dist <= half
    image[road] = colour("road")
    if theme.road_grain > 0:
        image[road & (rng.random(road.shape) < theme.road_grain * 0.5)] = colour("road_alt")
    line = road & (dist > half - EDGE_LINE_M[0]) & (dist <= half - EDGE_LINE_M[1])
    image[line] = colour("line")
    if theme.border != "none":
        curb = road & (dist > half - CURB_M)
        stripe = (np.floor(s / CURB_STRIPE_M).astype(np.int64) & 1) == 0
        if theme.border == "solid":
            stripe[:] = True
        image[curb & stripe] = colour("border")
        image[curb & ~stripe] = colour("border_alt")
    start = road & (dist <= half - EDGE_LINE_M[0]) & (s < START_LINE_M)
    checker = (np.floor(s / CHECKER_M).astype(np.int64) + np.floor(signed / CHECKER_M).astype(np.int64)) & 1
    light = theme.brightness * np.array(theme.tint)
    image[start & (checker == 0)] = np.clip(np.array((20, 20, 20)) * light, 0, 255).astype(np.uint8)
    image[start & (checker == 1)] = np.clip(np.array((245, 245, 245)) * light, 0, 255).astype(np.uint8)

    if far is not None:
        border = colour("far")
    else:
        border = ((colour("offroad").astype(int) + colour("offroad_alt")) // 2).astype(np.uint8)
    levels = []
    current = image.astype(np.float32)
    for _ in range(MIP_LEVELS):
        padded = np.empty((current.shape[0] + 2, current.shape[1] + 2, 3), dtype=np.uint8)
        padded[:] = border
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
