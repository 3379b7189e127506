"""Themes: the five built-ins look different, theme files are validated with errors that name the
problem, a track may name its default theme, and the jitter is seeded."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tensorkart_simulator.game import Game
from tensorkart_simulator.options import SimOptions
from tensorkart_simulator.render import Mode7Renderer
from tensorkart_simulator.runner import make_theme
from tensorkart_simulator.themes import (
    BUILTIN_THEMES,
    COLOUR_KEYS,
    ThemeError,
    builtin_path,
    jittered,
    load_theme,
    parse_theme,
    random_theme,
    theme_for_run,
)
from tensorkart_simulator.track import load_track

SQUARE = [[0, 0], [80, 0], [80, 80], [0, 80]]


def test_the_five_builtin_themes_exist_and_look_different() -> None:
    assert set(BUILTIN_THEMES) >= {"raceway", "beach", "snow", "desert", "night"}
    track = load_track("luigi")
    means = {}
    for name in BUILTIN_THEMES:
        theme = load_theme(name)
        assert theme.name == name
        frame = Mode7Renderer(Game(track), hud=False, theme=theme).render()
        assert tuple(frame[0, 320]) == tuple(theme.lit_u8("sky_top"))
        means[name] = frame[200:400].reshape(-1, 3).mean(axis=0)
    names = list(means)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert np.abs(means[a] - means[b]).sum() > 30, (a, b)


def test_night_is_darker_than_raceway() -> None:
    track = load_track("twists")
    day = Mode7Renderer(Game(track), hud=False, theme=load_theme("raceway")).render()
    night = Mode7Renderer(Game(track), hud=False, theme=load_theme("night")).render()
    assert night.mean() < 0.6 * day.mean()


def test_a_theme_file_by_path_is_the_same_as_the_builtin(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(builtin_path("beach").read_text())
    assert load_theme(str(path)).colours == load_theme("beach").colours


def _theme_text(**changes: object) -> str:
    data = json.loads(builtin_path("raceway").read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data)


def _without_colour(key: str) -> str:
    data = json.loads(builtin_path("raceway").read_text())
    data["colours"].pop(key)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{nope", "malformed JSON"),
        ("[]", "must be a JSON object"),
        (_theme_text(colours=None), "missing key 'colours'"),
        (_theme_text(name=""), "'name' must be a non-empty string"),
        (_without_colour("road"), "missing colour 'road'"),
        (_theme_text(colours={"sea": [1, 2, 3]}), "unknown theme colour 'sea'"),
        (_theme_text(colours={"road": [1, 2]}), "theme colour 'road' must be [r, g, b]"),
        (_theme_text(colours={"road": [1, 2, 256]}), "theme colour 'road' must be [r, g, b]"),
        (_theme_text(offroad_pattern="plaid"), "'offroad_pattern' must be one of checker, stripes, blotches"),
        (_theme_text(border="walls"), "'border' must be one of"),
        (_theme_text(scenery="volcano"), "'scenery' must be one of"),
        (_theme_text(brightness=7), "'brightness' 7 is outside 0.1..2"),
        (_theme_text(tile_m="big"), "'tile_m' must be a finite number"),
        (_theme_text(tint=[1, 1]), "'tint' must be [r, g, b]"),
        (_theme_text(sparkle=1), "unknown key 'sparkle'"),
    ],
)
def test_bad_theme_files_name_the_file_and_the_problem(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad-theme.json"
    path.write_text(content)
    with pytest.raises(ThemeError) as error:
        load_theme(str(path))
    assert str(path) in str(error.value)
    assert problem in str(error.value)


def test_random_themes_are_seeded_valid_and_varied() -> None:
    track = load_track("luigi")
    assert load_theme("random-7") == random_theme(7) == random_theme(7)
    themes = [random_theme(seed) for seed in range(12)]
    assert len({theme.colours["road"] for theme in themes}) == 12
    assert len({theme.offroad_pattern for theme in themes}) > 1 and len({theme.scenery for theme in themes}) > 1
    brightness = [theme.brightness for theme in themes]
    assert min(brightness) < 0.7 and max(brightness) > 1.0  # dim and bright lighting both occur
    frames = []
    for theme in themes[:3]:
        # Every generated theme is a valid theme file too (same validation as a file on disk).
        data = {
            "name": theme.name,
            "colours": {key: list(theme.colours[key]) for key in COLOUR_KEYS},
            **{key: getattr(theme, key) for key in ("offroad_pattern", "border", "scenery", "tile_m", "brightness")},
            "tint": list(theme.tint),
        }
        assert parse_theme(json.dumps(data)).colours == theme.colours
        frames.append(Mode7Renderer(Game(track), hud=False, theme=theme).render())
    assert all(np.abs(a.astype(int) - b).mean() > 10 for a, b in itertools.pairwise(frames))


def test_unknown_theme_name_and_missing_file() -> None:
    with pytest.raises(ThemeError, match="unknown theme 'lava': use a built-in"):
        load_theme("lava")
    with pytest.raises(ThemeError, match="no such theme file"):
        load_theme("/nonexistent/theme.json")


def test_a_track_names_its_default_theme_and_a_run_can_override_it(tmp_path: Path) -> None:
    (tmp_path / "icy.json").write_text(_theme_text(name="icy"))
    for theme_ref, expected in (("snow", "snow"), ("icy.json", "icy")):
        path = tmp_path / f"track-{expected}.json"
        path.write_text(json.dumps({"name": "sq", "width": 12, "points": SQUARE, "theme": theme_ref}))
        track = load_track(str(path))
        assert make_theme(SimOptions(track=str(path)), track).name == expected
        assert make_theme(SimOptions(track=str(path), theme="desert"), track).name == "desert"
    plain = load_track("luigi")
    assert make_theme(SimOptions(), plain).name == "raceway"


def test_track_colours_override_the_default_theme(tmp_path: Path) -> None:
    theme = theme_for_run(None, None, "", {"offroad": (1, 2, 3)})
    assert theme.colours["offroad"] == (1, 2, 3)
    assert theme.colours["road"] == load_theme("raceway").colours["road"]


def test_jitter_is_seeded_and_zero_means_none() -> None:
    base = load_theme("beach")
    assert jittered(base, 5, 0.0) == base
    first, again, other = jittered(base, 5, 0.5), jittered(base, 5, 0.5), jittered(base, 6, 0.5)
    assert first == again
    assert first != other
    assert first != base
    assert set(first.colours) == set(COLOUR_KEYS)
    assert 0.1 <= first.brightness <= 2.0


def test_bad_theme_on_the_command_line_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(_theme_text(border="walls"))
    for args, message in (
        (["--theme", "lava"], "unknown theme 'lava'"),
        (["--theme", str(bad)], "'border' must be one of"),
        (["--traffic", "99"], "--traffic must be 0..12"),
        (["--theme-jitter", "2"], "--theme-jitter must be 0..1"),
    ):
        completed = subprocess.run(
            [sys.executable, "-m", "tensorkart_simulator", "run", "--headless", "--max-seconds", "1", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert completed.returncode == 2, completed.stderr
        assert message in completed.stderr
