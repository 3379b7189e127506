"""Themes: the look of a run (ground and road textures and colours, borders, sky, scenery, lighting).

A theme is a JSON file (format in docs/simulator.md); five are built in (`raceway`, `beach`,
`snow`, `desert`, `night`). `load_theme(name_or_file)` validates one with errors that name the
file and the problem; `jittered(theme, seed, amount)` is the seeded lighting and colour
randomisation used as augmentation, and `random-N` names a generated theme (`random_theme(N)`:
random colours, patterns, borders, scenery and lighting, seeded by N) for recordings that should
not learn any one look. Lighting is folded into the colours once per run, so a
theme costs nothing per frame.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np

Colour = tuple[int, int, int]

BUILTIN_THEMES = ("raceway", "beach", "snow", "desert", "night")
DEFAULT_THEME = "raceway"
COLOUR_KEYS = (
    "offroad",
    "offroad_alt",
    "far",
    "road",
    "road_alt",
    "line",
    "border",
    "border_alt",
    "sky_top",
    "sky_bottom",
    "scenery",
    "scenery_alt",
)
# Older track files name the raceway colours this way; they still work as overrides.
COLOUR_ALIASES = {
    "grass": "offroad",
    "grass_alt": "offroad_alt",
    "curb_red": "border",
    "curb_white": "border_alt",
    "hills": "scenery",
}
OFFROAD_PATTERNS = ("checker", "stripes", "blotches")
BORDER_STYLES = ("curbs", "solid", "none")
SCENERY_SHAPES = ("hills", "dunes", "mountains", "skyline", "none")
RANDOM_NAME = re.compile(r"random-(\d{1,9})")
NUMBERS: dict[str, tuple[float, float, float]] = {  # key: (default, min, max)
    "tile_m": (4.0, 0.5, 50.0),
    "road_grain": (0.0, 0.0, 1.0),
    "offroad_grain": (0.0, 0.0, 1.0),
    "far_m": (0.0, 0.0, 40.0),
    "scenery_height": (10.0, 0.0, 60.0),
    "brightness": (1.0, 0.1, 2.0),
    "stars": (0.0, 0.0, 0.05),
}
TOP_KEYS = {"name", "description", "colours", "offroad_pattern", "border", "scenery", "tint", *NUMBERS}


class ThemeError(ValueError):
    """A theme that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Theme:
    name: str
    colours: dict[str, Colour]
    offroad_pattern: str = "checker"
    border: str = "curbs"
    scenery: str = "hills"
    tile_m: float = 4.0
    road_grain: float = 0.0  # 0..1: speckle of road_alt in the asphalt
    offroad_grain: float = 0.0
    far_m: float = 0.0  # beyond this distance from the road edge the ground is `far` (0: never)
    scenery_height: float = 10.0  # pixels above the horizon at 320x240
    brightness: float = 1.0
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)  # per-channel light colour
    stars: float = 0.0  # share of sky pixels that are stars
    source: str = field(default="", compare=False)

    def lit(self, key: str) -> np.ndarray:
        """A colour after the theme's lighting, as float RGB."""
        light = self.brightness * np.array(self.tint)
        return np.clip(np.array(self.colours[key], dtype=np.float64) * light, 0, 255)

    def lit_u8(self, key: str) -> np.ndarray:
        return np.round(self.lit(key)).astype(np.uint8)


def builtin_path(name: str) -> Path:
    return Path(str(resources.files("tensorkart_simulator") / "themes" / f"{name}.json"))


def load_theme(name_or_file: str) -> Theme:
    """A built-in theme name, `random-N` (a generated theme) or a path to a theme file -> the validated Theme."""
    if (match := RANDOM_NAME.fullmatch(name_or_file)) is not None:
        return random_theme(int(match.group(1)))
    if name_or_file in BUILTIN_THEMES:
        path = builtin_path(name_or_file)
    else:
        path = Path(name_or_file)
        if not (path.suffix == ".json" or "/" in name_or_file or path.exists()):
            known = ", ".join(BUILTIN_THEMES)
            raise ThemeError(
                f"unknown theme {name_or_file!r}: use a built-in ({known}), random-N (a generated theme) "
                "or a theme .json file"
            )
        if not path.is_file():
            raise ThemeError(f"{name_or_file}: no such theme file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ThemeError(f"{path}: cannot read theme file: {error}") from None
    return parse_theme(text, str(path))


def parse_colour(value: object, key: str, source: str) -> Colour:
    ok = isinstance(value, list) and len(value) == 3
    ok = ok and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)
    if not ok:
        raise ThemeError(
            f"{source}: theme colour {key!r} must be [r, g, b] with integers 0..255, got {json.dumps(value)[:40]}"
        )
    return (value[0], value[1], value[2])


def colour_overrides(raw: object, source: str) -> dict[str, Colour]:
    """An object of colours (theme names or the older track aliases) -> canonical keys."""
    if not isinstance(raw, dict):
        raise ThemeError(f"{source}: 'colours' must be an object of [r, g, b] colours")
    out = {}
    for key, value in raw.items():
        canonical = COLOUR_ALIASES.get(key, key)
        if canonical not in COLOUR_KEYS:
            known = ", ".join(COLOUR_KEYS)
            raise ThemeError(f"{source}: unknown theme colour {key!r} (known: {known})")
        out[canonical] = parse_colour(value, key, source)
    return out


def _choice(data: dict, key: str, options: tuple[str, ...], default: str, source: str) -> str:
    value = data.get(key, default)
    if value not in options:
        raise ThemeError(f"{source}: {key!r} must be one of {', '.join(options)}, got {json.dumps(value)[:40]}")
    return value


def _number(data: dict, key: str, source: str) -> float:
    default, low, high = NUMBERS[key]
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ThemeError(f"{source}: {key!r} must be a finite number, got {json.dumps(value)[:40]}")
    if not low <= value <= high:
        raise ThemeError(f"{source}: {key!r} {value:g} is outside {low:g}..{high:g}")
    return float(value)


def parse_theme(text: str, source: str = "<theme>") -> Theme:
    """Parse and validate theme JSON text; `source` names the file in error messages."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ThemeError(f"{source}: malformed JSON: {error}") from None
    if not isinstance(data, dict):
        raise ThemeError(f"{source}: a theme must be a JSON object with name and colours")
    for key in ("name", "colours"):
        if key not in data:
            raise ThemeError(f"{source}: missing key {key!r}")
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise ThemeError(f"{source}: unknown key {unknown[0]!r} (known: {', '.join(sorted(TOP_KEYS))})")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise ThemeError(f"{source}: 'name' must be a non-empty string")
    colours = colour_overrides(data["colours"], source)
    missing = [key for key in COLOUR_KEYS if key not in colours]
    if missing:
        raise ThemeError(f"{source}: missing colour {missing[0]!r} (a theme names all of {', '.join(COLOUR_KEYS)})")
    tint = data.get("tint", [1.0, 1.0, 1.0])
    ok = isinstance(tint, list) and len(tint) == 3
    ok = ok and all(not isinstance(t, bool) and isinstance(t, int | float) and 0.2 <= t <= 2.0 for t in tint)
    if not ok:
        raise ThemeError(f"{source}: 'tint' must be [r, g, b] light multipliers between 0.2 and 2.0")
    return Theme(
        name=name.strip(),
        colours=colours,
        offroad_pattern=_choice(data, "offroad_pattern", OFFROAD_PATTERNS, "checker", source),
        border=_choice(data, "border", BORDER_STYLES, "curbs", source),
        scenery=_choice(data, "scenery", SCENERY_SHAPES, "hills", source),
        tint=(float(tint[0]), float(tint[1]), float(tint[2])),
        source=source,
        **{key: _number(data, key, source) for key in NUMBERS},
    )


def with_overrides(theme: Theme, overrides: dict[str, Colour]) -> Theme:
    """The theme with some colours replaced (a track file's own colours)."""
    if not overrides:
        return theme
    return replace(theme, colours={**theme.colours, **overrides})


def jittered(theme: Theme, seed: int, amount: float) -> Theme:
    """Seeded lighting and colour jitter (augmentation): amount 0 leaves the theme as it is.

    At amount 1: brightness x [0.7, 1.3], light colour +-15% per channel, every colour shifted
    by up to about +-30 per channel. The road stays darker or lighter than the off-road as it was
    for amounts up to 1, since both move together with the lighting.
    """
    if amount <= 0:
        return theme
    rng = np.random.default_rng([seed, 0x7E3E])
    brightness = float(np.clip(theme.brightness * (1.0 + rng.uniform(-0.3, 0.3) * amount), 0.1, 2.0))
    tint = tuple(float(np.clip(t * (1.0 + rng.uniform(-0.15, 0.15) * amount), 0.2, 2.0)) for t in theme.tint)
    colours = {}
    for key in COLOUR_KEYS:
        shift = rng.uniform(-30, 30, 3) * amount
        value = np.clip(np.array(theme.colours[key]) + shift, 0, 255).round().astype(int)
        colours[key] = (int(value[0]), int(value[1]), int(value[2]))
    return replace(theme, colours=colours, brightness=brightness, tint=tint)  # type: ignore[arg-type]


def random_theme(seed: int) -> Theme:
    """A generated theme, `random-<seed>`: every colour random, a random off-road pattern, border,
    scenery, grain and tile size, and lighting from dim (brightness 0.35) to bright (1.3) with a
    random light colour. The same seed gives the same theme. A spread of these in the training data
    teaches a model the road's shape rather than one look (domain randomisation)."""
    rng = np.random.default_rng([seed, 0x7A4D])

    def colour() -> Colour:
        value = rng.integers(0, 256, 3)
        return (int(value[0]), int(value[1]), int(value[2]))

    def near(base: Colour, spread: int) -> Colour:
        value = np.clip(np.array(base) + rng.integers(-spread, spread + 1, 3), 0, 255)
        return (int(value[0]), int(value[1]), int(value[2]))

    colours = {key: colour() for key in COLOUR_KEYS}
    colours["road_alt"] = near(colours["road"], 25)
    colours["offroad_alt"] = near(colours["offroad"], 40)
    return Theme(
        name=f"random-{seed}",
        colours=colours,
        offroad_pattern=str(rng.choice(OFFROAD_PATTERNS)),
        border=str(rng.choice(("curbs", "curbs", "solid", "none"))),
        scenery=str(rng.choice(SCENERY_SHAPES)),
        tile_m=float(rng.uniform(2.0, 12.0)),
        road_grain=float(rng.uniform(0.0, 0.5)),
        offroad_grain=float(rng.uniform(0.0, 0.5)),
        far_m=float(rng.choice((0.0, rng.uniform(3.0, 15.0)))),
        scenery_height=float(rng.uniform(4.0, 20.0)),
        brightness=float(rng.uniform(0.35, 1.3)),
        tint=(float(rng.uniform(0.7, 1.2)), float(rng.uniform(0.7, 1.2)), float(rng.uniform(0.7, 1.2))),
        stars=float(rng.choice((0.0, 0.0, 0.02))),
        source=f"random-{seed}",
    )


def theme_for_run(
    requested: str | None,
    track_default: str | None = None,
    track_source: str = "",
    overrides: dict[str, Colour] | None = None,
    seed: int = 0,
    jitter: float = 0.0,
) -> Theme:
    """The theme a run uses: the one asked for, else the track's default (its colours on top),
    else raceway; then the seeded jitter. A track's theme file path is relative to the track file."""
    if requested:
        theme = load_theme(requested)
    else:
        name = track_default or DEFAULT_THEME
        if name not in BUILTIN_THEMES and track_source and not Path(name).is_absolute():
            name = str(Path(track_source).parent / name)
        theme = with_overrides(load_theme(name), overrides or {})
    return jittered(theme, seed, jitter)
