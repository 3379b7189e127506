"""The expert drives every built-in track and a random valid track without a single intervention."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tensorkart_simulator.drivers.expert import ExpertDriver
from tensorkart_simulator.game import Game, autonomy
from tensorkart_simulator.options import SimOptions
from tensorkart_simulator.pad import Pad
from tensorkart_simulator.runner import run
from tensorkart_simulator.track import BUILTIN_TRACKS, load_track, parse_track
from tensorkart_simulator.trackgen import random_track_json

REPORT_KEYS = {"track", "driver", "laps", "sim_seconds", "interventions", "autonomy", "progress", "fps"}


@pytest.mark.parametrize("track", BUILTIN_TRACKS)
def test_expert_three_laps_full_autonomy_on_builtin(track: str) -> None:
    options = SimOptions(track=track, driver="expert", laps=3, headless=True, seed=1)
    report = run(options, on_frame=lambda _n, _rgb: None)
    assert set(report) == REPORT_KEYS
    assert report["track"] == track
    assert report["laps"] == 3
    assert report["interventions"] == 0
    assert report["autonomy"] == 1.0
    # Laps are short enough for the demo: 20-40 s each.
    assert 60 <= report["sim_seconds"] <= 120


def test_expert_recordings_contain_drifts_and_recoveries() -> None:
    game = Game(load_track("luigi"))
    expert = ExpertDriver(seed=3)
    offsets = []
    while game.laps < 2:
        game.step(expert.act(game))
        offsets.append(game.offset)
    offsets_abs = np.abs(offsets)
    assert offsets_abs.max() > 2.0  # drifted well away from the centre line ...
    assert game.interventions == 0  # ... and always came back


def test_expert_on_random_valid_track_file(tmp_path: Path) -> None:
    path = tmp_path / "random.json"
    path.write_text(random_track_json(seed=11))
    options = SimOptions(track=str(path), driver="expert", laps=2, headless=True, seed=2, noise=0.15)
    report = run(options)
    assert report["track"] == "random-11"
    assert report["laps"] == 2
    assert report["interventions"] == 0
    assert report["autonomy"] == 1.0


@pytest.mark.parametrize("seed", [21, 22, 23, 24])
def test_expert_physics_only_on_more_random_tracks(seed: int) -> None:
    game = Game(parse_track(random_track_json(seed)))
    expert = ExpertDriver(seed=seed, noise=0.2)
    while game.laps < 2:
        game.step(expert.act(game))
        assert game.frame < 30 * 300, "expert made no progress"
    assert game.interventions == 0, game.intervention_log


def test_leaving_the_road_and_getting_stuck_are_interventions() -> None:
    game = Game(load_track("luigi"))
    full_left = Pad(x_axis=-80, a=True)
    while game.interventions == 0:
        game.step(full_left)
        assert game.frame < 30 * 20
    assert game.intervention_log[0][1] == "off road"
    # Put back on the centre line, facing along it, at rest.
    assert game.offset == 0.0
    assert game.kart.speed == 0.0
    assert abs(game.heading_error()) < 0.05
    frame = game.frame
    for _ in range(int(3.2 * 30)):
        game.step(Pad())  # nobody presses anything: stuck after 3 s
    assert game.intervention_log[-1] == (frame + 90, "stuck")
    assert game.interventions == 2
    assert game.autonomy == autonomy(2, game.sim_seconds)
    assert autonomy(1, 60.0) == pytest.approx(0.9)
    assert autonomy(20, 60.0) == 0.0


def test_tensorkart_sim_prints_the_contract_json_last() -> None:
    tensorkart = Path(sys.executable).parent / "tensorkart"
    completed = subprocess.run(
        [str(tensorkart), "sim", "--headless", "--driver", "expert", "--track", "heldout", "--laps", "1", "--report"],
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert set(report) == REPORT_KEYS
    assert report["track"] == "heldout"
    assert report["driver"] == "expert"
    assert report["laps"] == 1
    assert report["interventions"] == 0
    assert report["autonomy"] == 1.0
    assert report["fps"] > 0


def test_label_model_and_max_seconds() -> None:
    options = SimOptions(track="twists", laps=0, headless=True, max_seconds=2.0, label_model="v7")
    report = run(options)
    assert report["model"] == "v7"
    assert "driver" not in report
    assert report["sim_seconds"] == pytest.approx(2.0)
    assert report["laps"] == 0


def test_bad_options_exit_2_with_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "width": -1, "points": []}')
    for args, message in (
        (["--track", str(bad)], "'width' must be positive"),
        (["--driver", "expert", "--laps", "-1"], "--laps must be >= 0"),
        (["--wait-for-subscriber"], "--wait-for-subscriber needs --feed-port"),
    ):
        completed = subprocess.run(
            [sys.executable, "-m", "tensorkart_simulator", "run", "--headless", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert completed.returncode == 2
        assert message in completed.stderr
