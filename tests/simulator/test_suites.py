"""Evaluation suites: the built-ins load and hold out what the demo records; bad suite files are
rejected with the problem named; scoring against the expert on the same run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tensorkart_simulator.drivers.expert import ExpertDriver
from tensorkart_simulator.pad import Pad
from tensorkart_simulator.suites import (
    BUILTIN_SUITES,
    DEFAULT_SUITE,
    SuiteError,
    aggregate,
    drive,
    expert_speed,
    load_suite,
    score,
)
from tensorkart_simulator.themes import load_theme
from tensorkart_simulator.track import load_track
from tests.helpers import load_demo


def _demo_looks() -> tuple[set[str], set[str]]:
    """The tracks and themes tools/demo.py records, over all its recipes (a track's own look is raceway)."""
    demo = load_demo()
    recordings = [item for recipe in demo.RECIPES.values() for item in recipe.recordings]
    return {track for track, _, _ in recordings}, {load_theme(theme or "raceway").name for _, theme, _ in recordings}


def test_builtin_suites_load_and_the_default_holds_out_the_demo_data() -> None:
    for name in BUILTIN_SUITES:
        assert load_suite(name).runs
    demo_tracks, demo_themes = _demo_looks()
    assert demo_tracks == {"luigi", "twists"} and {"raceway", "beach"} <= demo_themes
    suite = load_suite(DEFAULT_SUITE)
    assert len(suite.runs) >= 6
    assert not {load_track(run.track).name for run in suite.runs} & demo_tracks
    assert not {load_theme(run.theme).name for run in suite.runs} & demo_themes
    assert len({run.theme for run in suite.runs}) >= 3
    assert any(run.traffic for run in suite.runs)


def _suite(tmp_path: Path, **changes: object) -> Path:
    data: dict = {"name": "s", "laps": 1, "runs": [{"track": "heldout", "theme": "snow", "traffic": 0, "seed": 1}]}
    data.update(changes)
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"runs": []}, "'runs' must be a non-empty list"),
        ({"laps": 0}, "'laps' must be an integer 1..20"),
        ({"runs": [{"track": "heldout", "theme": "snow", "traffic": 0}]}, "run 0 must have exactly the keys"),
        ({"runs": [{"track": "nowhere", "theme": "snow", "traffic": 0, "seed": 1}]}, "run 0: unknown track"),
        ({"runs": [{"track": "heldout", "theme": "lava", "traffic": 0, "seed": 1}]}, "run 0: unknown theme 'lava'"),
        ({"runs": [{"track": "heldout", "theme": "snow", "traffic": 40, "seed": 1}]}, "run 0: 'traffic' must be"),
        ({"max_seconds": -1}, "'max_seconds' must be"),
    ],
)
def test_bad_suite_files_name_the_problem(tmp_path: Path, changes: dict, problem: str) -> None:
    path = _suite(tmp_path, **changes)
    with pytest.raises(SuiteError) as error:
        load_suite(str(path))
    assert str(path) in str(error.value)
    assert problem in str(error.value)


def test_unknown_suite_name() -> None:
    with pytest.raises(SuiteError, match="unknown suite 'nope'"):
        load_suite("nope")


def test_the_expert_scores_full_marks_and_a_bad_driver_does_not() -> None:
    suite = load_suite("quick")
    lines, bad_lines = [], []
    for run in suite.runs:
        reference = expert_speed(run, suite)
        expert = ExpertDriver(seed=run.seed)
        lines.append(score(run, suite, drive(run, suite, lambda _frame, game, e=expert: e.act(game)), reference))
        report = drive(run, suite, lambda _frame, _game: Pad.from_normalised(-1.0, 0.0, a=True))
        bad_lines.append(score(run, suite, report, reference))
    for line in lines:
        assert set(line) >= {"autonomy", "lap_completed_pct", "lap_time_vs_expert", "interventions_per_min"}
        assert line["autonomy"] == 1.0
        assert line["pace"] == pytest.approx(1.0, abs=1e-3)  # the report rounds progress
        assert line["interventions_per_min"] == 0
    total = aggregate(suite, lines)
    assert total["suite"] == "quick" and total["runs"] == 2
    assert total["suite_autonomy"] == 1.0 and total["suite_pace"] == pytest.approx(1.0, abs=1e-3)
    bad = aggregate(suite, bad_lines)
    assert bad["suite_autonomy"] < 0.2
    assert bad["suite_pace"] < 0.5
    assert bad["interventions_per_min"] > 5
