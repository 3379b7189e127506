"""Track files: loading, validation with errors that name the file and the problem, built-ins.

A track is JSON: {"name": str, "width": metres, "points": [[x, y], ...]} - a closed centre line
driven in list order. Optional look: "theme": "beach" (the track's default theme, a built-in name
or a theme file path) or "theme": {"grass": [r, g, b], ...} (colours over the default theme;
see themes.COLOUR_KEYS and COLOUR_ALIASES).

Besides the built-ins and files, `random-N` (N a non-negative integer) names a generated layout
(tensorkart_simulator.trackgen, the same N gives the same track) for layout-randomised
recordings and DAgger rounds.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from tensorkart_simulator.geometry import CentreLine
from tensorkart_simulator.themes import ThemeError, colour_overrides

BUILTIN_TRACKS = ("luigi", "twists", "heldout")
RANDOM_TRACK = re.compile(r"random-(\d{1,9})")
MIN_POINTS = 4
MIN_WIDTH_M = 4.0
MAX_WIDTH_M = 40.0
MAX_COORD_M = 5_000.0
MAX_EXTENT_M = 2_000.0
MIN_LENGTH_M = 60.0
MAX_LENGTH_M = 10_000.0
MIN_POINT_GAP_M = 0.5
# Tightest bend the kart can take at a useful speed (see physics.max_steer).
MIN_TURN_RADIUS_M = 6.0


class TrackError(ValueError):
    """A track that cannot be used; the message names the file and the problem."""


@dataclass
class Track:
    name: str
    width: float
    points: np.ndarray
    source: str
    theme: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # colour overrides
    default_theme: str | None = None  # theme name or file used when a run names none
    centre: CentreLine = field(init=False)

    def __post_init__(self) -> None:
        self.centre = CentreLine(self.points)

    @property
    def half_width(self) -> float:
        return self.width / 2.0


def builtin_path(name: str) -> Path:
    return Path(str(resources.files("tensorkart_simulator") / "tracks" / f"{name}.json"))


def resolve_track(name_or_file: str) -> Path:
    """A built-in track name or a path to a track file -> the file's path."""
    path = Path(name_or_file)
    if name_or_file in BUILTIN_TRACKS:
        return builtin_path(name_or_file)
    if path.suffix == ".json" or path.exists() or "/" in name_or_file:
        if not path.is_file():
            raise TrackError(f"{name_or_file}: no such track file")
        return path
    known = ", ".join(BUILTIN_TRACKS)
    raise TrackError(f"unknown track {name_or_file!r}: use a built-in ({known}), random-N or a .json file")


def load_track(name_or_file: str) -> Track:
    """Load and validate a track by built-in name, `random-N` or file path."""
    if (generated := RANDOM_TRACK.fullmatch(name_or_file)) and not Path(name_or_file).exists():
        from tensorkart_simulator.trackgen import random_track_json

        return parse_track(random_track_json(int(generated.group(1))), name_or_file)
    path = resolve_track(name_or_file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TrackError(f"{path}: cannot read track file: {error}") from None
    return parse_track(text, str(path))


def _number(value: object, what: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TrackError(f"{source}: {what} must be a number, got {json.dumps(value)[:40]}")
    if not math.isfinite(value):
        raise TrackError(f"{source}: {what} is not a finite number ({value})")
    return float(value)


def _theme(raw: object, source: str) -> tuple[str | None, dict[str, tuple[int, int, int]]]:
    """A track's "theme": a theme name/file (its default) or an object of colour overrides."""
    if isinstance(raw, str):
        if not raw.strip():
            raise TrackError(f"{source}: 'theme' must be a theme name, a theme file or an object of colours")
        return raw.strip(), {}
    if not isinstance(raw, dict):
        raise TrackError(f"{source}: 'theme' must be a theme name, a theme file or an object of colours")
    try:
        return None, colour_overrides(raw, source)
    except ThemeError as error:
        raise TrackError(str(error)) from None


def parse_track(text: str, source: str = "<track>") -> Track:
    """Parse and validate track JSON text; `source` names the file in error messages."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TrackError(f"{source}: malformed JSON: {error}") from None
    if not isinstance(data, dict):
        raise TrackError(f"{source}: a track must be a JSON object with name, width and points")
    for key in ("name", "width", "points"):
        if key not in data:
            raise TrackError(f"{source}: missing key {key!r}")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise TrackError(f"{source}: 'name' must be a non-empty string")
    width = _number(data["width"], "'width'", source)
    if width <= 0:
        raise TrackError(f"{source}: 'width' must be positive, got {width:g}")
    if not MIN_WIDTH_M <= width <= MAX_WIDTH_M:
        raise TrackError(f"{source}: 'width' {width:g} m is outside {MIN_WIDTH_M:g}..{MAX_WIDTH_M:g} m")
    raw_points = data["points"]
    if not isinstance(raw_points, list):
        raise TrackError(f"{source}: 'points' must be a list of [x, y] pairs")
    if len(raw_points) < MIN_POINTS:
        raise TrackError(f"{source}: too few points: {len(raw_points)} (a closed track needs at least {MIN_POINTS})")
    points = []
    for i, point in enumerate(raw_points):
        if not isinstance(point, list) or len(point) != 2:
            raise TrackError(f"{source}: point {i} must be a pair [x, y], got {json.dumps(point)[:40]}")
        x, y = (_number(c, f"point {i}", source) for c in point)
        if abs(x) > MAX_COORD_M or abs(y) > MAX_COORD_M:
            raise TrackError(f"{source}: point {i} ({x:g}, {y:g}) is more than {MAX_COORD_M:g} m from the origin")
        points.append((x, y))
    default_theme, theme = _theme(data["theme"], source) if "theme" in data else (None, {})
    array = np.array(points, dtype=np.float64)
    check_geometry(array, width, source)
    return Track(name=name.strip(), width=width, points=array, source=source, theme=theme, default_theme=default_theme)


def check_geometry(points: np.ndarray, width: float, source: str) -> None:
    """Reject geometry no kart can drive: repeated points, tiny/huge tracks, bends too tight, overlaps."""
    gaps = np.linalg.norm(np.roll(points, -1, axis=0) - points, axis=1)
    for i in np.flatnonzero(gaps < MIN_POINT_GAP_M)[:1]:
        j = (i + 1) % len(points)
        raise TrackError(f"{source}: points {i} and {j} are only {gaps[i]:.2f} m apart (repeated point?)")
    extent = points.max(axis=0) - points.min(axis=0)
    if extent.max() > MAX_EXTENT_M:
        raise TrackError(f"{source}: track spans {extent.max():.0f} m, more than {MAX_EXTENT_M:g} m")
    centre = CentreLine(points)
    if centre.length < MIN_LENGTH_M:
        raise TrackError(f"{source}: centre line is only {centre.length:.1f} m long (at least {MIN_LENGTH_M:g} m)")
    if centre.length > MAX_LENGTH_M:
        raise TrackError(f"{source}: centre line is {centre.length:.0f} m long (at most {MAX_LENGTH_M:g} m)")
    min_radius = max(MIN_TURN_RADIUS_M, width / 2 + 1.5)
    radius = 1.0 / np.maximum(np.abs(centre.curvature), 1e-9)
    tight = int(np.argmin(radius))
    if radius[tight] < min_radius:
        x, y = centre.points[tight]
        raise TrackError(
            f"{source}: bend at ({x:.1f}, {y:.1f}) has radius {radius[tight]:.1f} m; "
            f"at least {min_radius:.1f} m is needed (road width {width:g} m)"
        )
    _check_overlap(centre, width, min_radius, source)


def _check_overlap(centre: CentreLine, width: float, min_radius: float, source: str) -> None:
    """Two stretches of road that are far apart along the line must not touch on the ground."""
    step = max(1, int(2.0 / centre.spacing))
    pts = centre.points[::step]
    s = centre.s[::step]
    local_arc = math.pi * min_radius
    limit = width + 1.0
    for start in range(0, len(pts), 256):
        block = pts[start : start + 256]
        dist = np.linalg.norm(block[:, None, :] - pts[None, :, :], axis=2)
        arc = np.abs(s[start : start + 256, None] - s[None, :])
        arc = np.minimum(arc, centre.length - arc)
        bad = (dist < limit) & (arc > local_arc)
        if bad.any():
            i, j = np.unravel_index(np.argmin(np.where(bad, dist, np.inf)), dist.shape)
            a, b = block[i], pts[j]
            raise TrackError(
                f"{source}: road overlaps itself: the centre line at ({a[0]:.1f}, {a[1]:.1f}) passes "
                f"{dist[i, j]:.1f} m from ({b[0]:.1f}, {b[1]:.1f}); stretches of road need at least "
                f"{limit:.1f} m between centre lines (road width {width:g} m)"
            )
