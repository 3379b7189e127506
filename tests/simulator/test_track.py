"""Track files: built-ins load; every kind of bad file is rejected with its name and the problem."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tensorkart_simulator.track import BUILTIN_TRACKS, TrackError, builtin_path, load_track, parse_track
from tensorkart_simulator.trackgen import random_track_json

SQUARE = [[0, 0], [80, 0], [80, 80], [0, 80]]


def write(tmp_path: Path, content: str, name: str = "track.json") -> Path:
    path = tmp_path / name
    path.write_text(content)
    return path


@pytest.mark.parametrize("name", BUILTIN_TRACKS)
def test_builtin_tracks_are_package_data_and_valid(name: str) -> None:
    assert builtin_path(name).is_file()
    track = load_track(name)
    assert track.name == name
    assert 10 <= track.width <= 14
    assert 300 <= track.centre.length <= 700


def test_luigi_turns_mostly_left_and_twists_mostly_right() -> None:
    def turning(name: str) -> tuple[float, float]:
        centre = load_track(name).centre
        return float((centre.curvature > 1 / 60).sum()), float((centre.curvature < -1 / 60).sum())

    left, right = turning("luigi")
    assert left > 4 * right
    left, right = turning("twists")
    assert right > 2 * left


def test_any_valid_file_loads_by_path(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps({"name": "square", "width": 12, "points": SQUARE, "theme": {"grass": [1, 2, 3]}}))
    track = load_track(str(path))
    assert track.name == "square"
    assert track.theme["offroad"] == (1, 2, 3)  # "grass" is the older name of "offroad"
    assert track.centre.length > 250


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "malformed JSON"),
        ("[1, 2, 3]", "must be a JSON object"),
        (json.dumps({"name": "t", "width": 12}), "missing key 'points'"),
        (json.dumps({"name": "", "width": 12, "points": SQUARE}), "'name' must be a non-empty string"),
        (json.dumps({"name": "t", "width": 0, "points": SQUARE}), "'width' must be positive, got 0"),
        (json.dumps({"name": "t", "width": -3, "points": SQUARE}), "'width' must be positive, got -3"),
        (json.dumps({"name": "t", "width": "wide", "points": SQUARE}), "'width' must be a number"),
        (json.dumps({"name": "t", "width": 100, "points": SQUARE}), "outside 4..40 m"),
        (json.dumps({"name": "t", "width": 12, "points": SQUARE[:3]}), "too few points: 3"),
        (json.dumps({"name": "t", "width": 12, "points": "abc"}), "'points' must be a list"),
        (json.dumps({"name": "t", "width": 12, "points": [*SQUARE, [1, 2, 3]]}), "point 4 must be a pair"),
        ('{"name": "t", "width": 12, "points": [[0, 0], [80, 0], [80, NaN], [0, 80]]}', "point 2 is not a finite"),
        ('{"name": "t", "width": Infinity, "points": [[0, 0], [80, 0], [80, 80], [0, 80]]}', "not a finite"),
        (json.dumps({"name": "t", "width": 12, "points": [[0, 0], [80, 0], [80, 0], [0, 80]]}), "repeated point"),
        (json.dumps({"name": "t", "width": 12, "points": [[0, 0], [10, 0], [10, 10], [0, 10]]}), "only 42.0 m long"),
        (
            json.dumps({"name": "t", "width": 12, "points": [[0, 0], [100, 0], [100, 100], [50, 10], [0, 100]]}),
            "radius",
        ),
        (json.dumps({"name": "t", "width": 12, "points": [[0, 0], [1e6, 0], [0, 1], [1, 1]]}), "from the origin"),
        (json.dumps({"name": "t", "width": 12, "points": SQUARE, "theme": {"grass": [1, 2]}}), "theme colour"),
        (json.dumps({"name": "t", "width": 12, "points": SQUARE, "theme": {"sea": [1, 2, 3]}}), "unknown theme"),
    ],
)
def test_bad_track_files_name_the_file_and_the_problem(tmp_path: Path, content: str, problem: str) -> None:
    path = write(tmp_path, content, "bad-track.json")
    with pytest.raises(TrackError) as error:
        load_track(str(path))
    assert str(path) in str(error.value)
    assert problem in str(error.value)


def test_figure_eight_crossing_itself_is_rejected() -> None:
    points = [[math.sin(2 * t) * 120, math.sin(t) * 100] for t in (i * 2 * math.pi / 12 for i in range(12))]
    with pytest.raises(TrackError, match=r"eight.json: road overlaps itself: .* passes 0\.\d m from"):
        parse_track(json.dumps({"name": "eight", "width": 12, "points": points}), "eight.json")


def test_stretches_of_road_too_close_are_rejected() -> None:
    # A long thin loop: the two straights are 10 m apart, closer than the 12 m road is wide.
    points = [[0, 0], [200, 0], [205, 5], [200, 10], [0, 10], [-5, 5]]
    with pytest.raises(TrackError):
        parse_track(json.dumps({"name": "thin", "width": 12, "points": points}), "thin.json")


def test_unknown_name_and_missing_file() -> None:
    with pytest.raises(TrackError, match="unknown track 'monaco'"):
        load_track("monaco")
    with pytest.raises(TrackError, match="no such track file"):
        load_track("/nonexistent/track.json")


def test_random_n_names_a_generated_layout() -> None:
    assert load_track("random-5").centre.length == parse_track(random_track_json(5)).centre.length
    assert load_track("random-6").centre.length != load_track("random-5").centre.length
    with pytest.raises(TrackError, match="random-N"):
        load_track("random-x")


def test_random_tracks_are_valid_and_reproducible() -> None:
    assert random_track_json(5) == random_track_json(5)
    track = parse_track(random_track_json(5))
    assert track.centre.length > 200
