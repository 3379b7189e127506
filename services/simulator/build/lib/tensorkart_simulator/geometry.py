"""The centre line of a track: a closed spline through the control points, sampled evenly by arc length.

`CentreLine` answers the questions physics, the expert and the renderer ask: where is arc
length s, which way does the road point there, how far is a position from the centre line,
how sharply does the road bend ahead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SAMPLE_SPACING_M = 0.5
# Catmull-Rom sub-steps per control-point segment before arc-length resampling.
SUBSTEPS = 64


def catmull_rom_closed(points: np.ndarray, substeps: int = SUBSTEPS) -> np.ndarray:
    """Dense points on the closed centripetal Catmull-Rom spline through `points` (N, 2).

    Centripetal parametrisation (alpha = 0.5) never forms cusps or loops between control
    points, so a sensible polygon gives a sensible road.
    """
    n = len(points)
    p0 = points[np.arange(n) - 1]
    p1 = points
    p2 = points[(np.arange(n) + 1) % n]
    p3 = points[(np.arange(n) + 2) % n]

    def knot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.maximum(np.linalg.norm(b - a, axis=1) ** 0.5, 1e-6)[:, None]

    t0 = np.zeros((n, 1))
    t1 = t0 + knot(p0, p1)
    t2 = t1 + knot(p1, p2)
    t3 = t2 + knot(p2, p3)
    u = np.linspace(0.0, 1.0, substeps, endpoint=False)[None, :]
    t = (t1 + (t2 - t1) * u)[..., None]  # (n, substeps, 1)
    t0, t1, t2, t3 = (k[:, None, :] for k in (t0, t1, t2, t3))
    p0, p1, p2, p3 = (p[:, None, :] for p in (p0, p1, p2, p3))
    a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
    a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
    a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
    b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
    b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
    c = (t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2
    return c.reshape(-1, 2)


def resample_closed(dense: np.ndarray, spacing: float) -> tuple[np.ndarray, float]:
    """Resample a closed polyline to (almost) equal arc-length spacing; returns points, length."""
    closed = np.vstack([dense, dense[:1]])
    seg = np.linalg.norm(np.diff(closed, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    length = float(cum[-1])
    count = max(8, round(length / spacing))
    targets = np.arange(count) * (length / count)
    x = np.interp(targets, cum, closed[:, 0])
    y = np.interp(targets, cum, closed[:, 1])
    return np.stack([x, y], axis=1), length


@dataclass(frozen=True)
class Location:
    """Where a position lies relative to the centre line."""

    index: int  # nearest sample (start of the nearest segment)
    s: float  # arc length of the projection, metres in [0, length)
    offset: float  # signed distance from the centre line, metres (+ = left of the driving direction)


class CentreLine:
    """Evenly sampled closed centre line with tangents, normals, curvature and lookups."""

    def __init__(self, control_points: np.ndarray, spacing: float = SAMPLE_SPACING_M) -> None:
        dense = catmull_rom_closed(np.asarray(control_points, dtype=np.float64))
        self.points, self.length = resample_closed(dense, spacing)
        self.count = len(self.points)
        self.spacing = self.length / self.count
        self.s = np.arange(self.count) * self.spacing
        forward = np.roll(self.points, -1, axis=0) - self.points
        self.seg_length = np.linalg.norm(forward, axis=1)
        self.tangents = forward / np.maximum(self.seg_length, 1e-9)[:, None]
        self.normals = np.stack([-self.tangents[:, 1], self.tangents[:, 0]], axis=1)  # left of travel
        self.headings = np.arctan2(self.tangents[:, 1], self.tangents[:, 0])
        self.curvature = self._curvature(window_m=2.0)

    def _curvature(self, window_m: float) -> np.ndarray:
        """Signed curvature (1/m, + = left turn), from the heading change over +-window_m."""
        k = max(1, round(window_m / self.spacing))
        change = np.roll(self.headings, -k) - np.roll(self.headings, k)
        change = (change + np.pi) % (2 * np.pi) - np.pi
        return change / (2 * k * self.spacing)

    def wrap(self, s: float) -> float:
        return s % self.length

    def index_at(self, s: float) -> int:
        return int(self.wrap(s) // self.spacing) % self.count

    def point_at(self, s: float) -> np.ndarray:
        """Position on the centre line at arc length s (linear between samples)."""
        s = self.wrap(s)
        i = int(s // self.spacing) % self.count
        frac = (s - i * self.spacing) / self.spacing
        j = (i + 1) % self.count
        return self.points[i] * (1.0 - frac) + self.points[j] * frac

    def heading_at(self, s: float) -> float:
        return float(self.headings[self.index_at(s)])

    def normal_at(self, s: float) -> np.ndarray:
        return self.normals[self.index_at(s)]

    def max_curvature(self, s_from: float, distance: float) -> float:
        """Largest |curvature| on the centre line from s_from over the next `distance` metres."""
        start = self.index_at(s_from)
        steps = max(1, int(distance / self.spacing))
        idx = (start + np.arange(steps)) % self.count
        return float(np.abs(self.curvature[idx]).max())

    def locate(self, position: np.ndarray, hint: int | None = None, window_m: float = 25.0) -> Location:
        """Project `position` on the centre line.

        With `hint` (the previous nearest sample) only segments within +-window_m of it are
        searched, so the kart keeps following its own stretch of road where two stretches
        pass close to each other.
        """
        if hint is None:
            idx = np.arange(self.count)
        else:
            k = int(window_m / self.spacing) + 1
            idx = (hint + np.arange(-k, k + 1)) % self.count
        a = self.points[idx]
        t = self.tangents[idx]
        rel = position[None, :] - a
        along = np.clip(np.einsum("ij,ij->i", rel, t), 0.0, self.seg_length[idx])
        nearest = a + t * along[:, None]
        dist2 = np.sum((position[None, :] - nearest) ** 2, axis=1)
        best = int(np.argmin(dist2))
        i = int(idx[best])
        side = float(rel[best] @ self.normals[i])
        offset = math.copysign(math.sqrt(float(dist2[best])), side) if side != 0.0 else 0.0
        return Location(index=i, s=self.wrap(float(self.s[i] + along[best])), offset=offset)
