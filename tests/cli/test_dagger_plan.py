"""`tensorkart dagger`'s plan: which laps a round drives (generated layouts and looks new every
round, never the held-out suite's), and the recipe a fine-tuning round keeps from its starting model.
The rounds themselves run end to end in tests/e2e/test_record_train_play.py and tests/play/test_dagger.py."""

from __future__ import annotations

from tensorkart_cli.commands.dagger import Drive, fine_tuning_params, round_drives
from tensorkart_simulator.suites import DEFAULT_SUITE, load_suite
from tensorkart_simulator.themes import load_theme
from tensorkart_simulator.track import load_track
from tests.helpers import load_demo


def test_a_round_drives_every_track_in_every_look_then_its_generated_layouts() -> None:
    assert round_drives(["luigi"], [], 0, 1) == [Drive("luigi", None)]
    drives = round_drives(["luigi", "twists"], ["snow", "beach"], 2, 1)
    fixed = [Drive("luigi", "snow"), Drive("twists", "snow"), Drive("luigi", "beach"), Drive("twists", "beach")]
    assert drives[:4] == fixed
    assert drives[4:] == [Drive("random-1100", "random-1100"), Drive("random-1101", "random-1101")]


def test_generated_layouts_are_new_every_round() -> None:
    first, second = round_drives([], [], 8, 1), round_drives([], [], 8, 2)
    assert len(first) == len(second) == 8
    assert not {d.track for d in first} & {d.track for d in second}
    lengths = {round(load_track(d.track).centre.length, 1) for d in first + second}
    assert len(lengths) == 16  # sixteen different layouts


def test_the_demo_rounds_never_drive_a_suite_layout_or_look() -> None:
    plan = load_demo().RECIPES["dagger"].dagger
    suite = load_suite(DEFAULT_SUITE)
    suite_tracks = {round(load_track(run.track).centre.length, 1) for run in suite.runs}
    suite_themes = {load_theme(run.theme).name for run in suite.runs}
    for number in range(1, plan.rounds + 1):
        for drive in round_drives([], [], plan.random_tracks, number):
            assert round(load_track(drive.track).centre.length, 1) not in suite_tracks
            assert load_theme(drive.theme).name not in suite_themes


def test_fine_tuning_keeps_the_starting_models_recipe() -> None:
    recipe = {
        "datasets": ["a"], "epochs": 8, "batch_size": 25, "outputs": ["x"], "trim_start": 60, "trim_end": 60,
        "augmentation": {"flip": 0.5, "brightness": 0.4}, "preprocess": {"crop_top": 0.35}, "evaluate": True,
        "promote": True, "base_model": None, "thin_straight": 0.7,
    }  # fmt: skip
    params = fine_tuning_params({"job": {"params": recipe}}, ["a", "a-r1-d1-interventions"], "m1", 2)
    assert params["datasets"] == ["a", "a-r1-d1-interventions"] and params["epochs"] == 2
    assert params["base_model"] == "m1" and not params["evaluate"] and not params["promote"]
    assert params["batch_size"] == 25 and params["outputs"] == ["x"] and params["thin_straight"] == 0.7
    assert params["augmentation"] == {"flip": 0.5, "brightness": 0.4}
    # the takeovers are short: trimming would drop them; the base model's pre-processing is kept by the trainer
    assert "trim_start" not in params and "trim_end" not in params and "preprocess" not in params


def test_a_model_without_a_recorded_recipe_fine_tunes_with_the_defaults() -> None:
    params = fine_tuning_params({}, ["a"], "m1", 3)
    assert params == {"datasets": ["a"], "epochs": 3, "base_model": "m1", "evaluate": False, "promote": False}
