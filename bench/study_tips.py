"""The workshop's training tips, measured on the evaluation suite (results: docs/study.md).

Every configuration gets the same data budget (STUDY_SECONDS of expert driving, 30 frames/s) and
the same training (PilotNet, STUDY_EPOCHS epochs, the trainer's own `train`), and is scored on the
same suite (default `heldout`: layouts and themes none of the data comes from) and on the
training theme (`raceway` on a training track) to show the gap:

  bc-one-theme   plain behaviour cloning: raceway only, the expert never drifts (no recoveries),
                 no flip, nothing thinned, trimmed or cropped
  +flip          mirror half the frames (x negated)
  +thin          + drop 70% of the straight-driving frames
  +trim          + drop the first and last 2 s of each recording
  +crop          + crop the HUD and the sky (rows 35%..92% of the frame)
  +recoveries    + the expert's drift-and-recover manoeuvres in the data
  full           + the data spread over eight looks (raceway, beach, six generated random-N themes)
                 with lighting and colour jitter and some traffic, and photometric augmentation
                 (brightness, contrast, grayscale, channel shuffle): the demo's recipe
  dagger-budget  the full pipeline inside the same budget (make demo's recipe): the full recipe
                 recorded for STUDY_SECONDS - STUDY_DAGGER_BUDGET (150 s), then STUDY_BUDGET_ROUNDS
                 (3) DAgger rounds: the model drives 8 generated layouts in generated looks, new
                 each round, the expert takes over near the edge, the takeover frames (sharing
                 STUDY_DAGGER_BUDGET, 90 s, over the rounds and laps) are added and the model is
                 fine-tuned on everything; the suite after every round
  dagger-rounds  STUDY_DAGGER_ROUNDS rounds from the `full` model: it drives the training tracks in
                 new generated looks, the expert takes over near the edge, the takeover frames are
                 added and the model is fine-tuned on everything; the takeovers on two held-out
                 laps are counted before the first round and after each

Data is generated in-process with the simulator (lock-step, the TensorKart dataset layout), models
are trained in-process with tensorkart_trainer.training.train and driven in-process through the
LiteRT model (tensorkart_inference.models), so the study needs no services running.
Run: `nice -n 5 .venv/bin/python bench/study_tips.py` (prints one JSON line per configuration
and a summary; STUDY_SECONDS, STUDY_EPOCHS, STUDY_SUITE, STUDY_ONLY=name,name to change it).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

SECONDS = float(os.environ.get("STUDY_SECONDS", "240"))
EPOCHS = int(os.environ.get("STUDY_EPOCHS", "8"))
DAGGER_ROUNDS = int(os.environ.get("STUDY_DAGGER_ROUNDS", "2"))
DAGGER_EPOCHS = int(os.environ.get("STUDY_DAGGER_EPOCHS", "2"))
BUDGET_ROUNDS = int(os.environ.get("STUDY_BUDGET_ROUNDS", "3"))
# dagger-budget's rounds drive: random (a new generated layout every lap) | train (luigi, twists)
DAGGER_LAYOUTS = os.environ.get("STUDY_DAGGER_LAYOUTS", "random")
DAGGER_BUDGET = float(os.environ.get("STUDY_DAGGER_BUDGET", "90"))  # dagger-budget: takeover seconds of SECONDS
# Every configuration trains the same way: steering only (A is held, as the controller does), batches
# of 25, Adam at its 1e-4 (3e-4 and 1e-3 left PilotNet's ReLUs dead: constant steering), EPOCHS epochs,
# no early stopping (a study dataset's validation frames are its last run, one look: it stops too early).
TRAINING = {"outputs": ["x"], "batch_size": 25, "early_stopping_patience": 0}
PHOTOMETRIC = {"brightness": 0.4, "contrast": 0.3, "grayscale": 0.1, "channel_shuffle": 0.5}
SUITE = os.environ.get("STUDY_SUITE", "heldout")
TRAIN_SEED = int(os.environ.get("STUDY_TRAIN_SEED", "1"))  # a repeat with another seed shows the run-to-run spread
ONLY = [name for name in os.environ.get("STUDY_ONLY", "").split(",") if name]
TRAIN_TRACKS = ("luigi", "twists")
CROP = {"crop_top": 0.35, "crop_bottom": 0.92}


def log(message: str) -> None:
    print(f"[study {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def record(data: Path, name: str, runs: list[dict[str, Any]], seconds: float) -> int:
    """Expert driving, `seconds` split over `runs` (track, theme, jitter, traffic, manoeuvres, seed)."""
    from tensorkart_simulator.drivers.expert import ExpertDriver
    from tensorkart_simulator.game import Game
    from tensorkart_simulator.render import Mode7Renderer
    from tensorkart_simulator.themes import jittered, load_theme
    from tensorkart_simulator.track import load_track
    from tensorkart_simulator.traffic import Traffic

    folder = data / "samples" / name
    folder.mkdir(parents=True, exist_ok=True)
    rows, index = [], 0
    frames_each = int(seconds * 30 / len(runs))
    for run in runs:
        track = load_track(run["track"])
        game = Game(
            track, traffic=Traffic(track, run.get("traffic", 0), seed=run["seed"]) if run.get("traffic") else None
        )
        theme = jittered(load_theme(run["theme"]), run["seed"], run.get("jitter", 0.0))
        renderer = Mode7Renderer(game, theme=theme)
        expert = ExpertDriver(seed=run["seed"], manoeuvres=run.get("manoeuvres", True))
        for _ in range(frames_each):
            pad = expert.act(game)
            # The frame is a 2x nearest upscale of 320x240: saving that is the same picture, 4x cheaper.
            Image.fromarray(renderer.render()[::2, ::2]).save(folder / f"img_{index}.png", compress_level=1)
            js = pad.joystick()
            rows.append(f"samples/{name}/img_{index}.png,{js.x},{js.y},{int(js.a)},{int(js.b)},{int(js.rb)}")
            index += 1
            game.step(pad)
    (folder / "data.csv").write_text("\n".join(rows) + "\n")
    return index


def train(data: Path, datasets: list[str], options: dict[str, Any], base: str | None = None, epochs: int = 0) -> str:
    from tensorkart_core.settings import load_settings
    from tensorkart_trainer.params import JobParams
    from tensorkart_trainer.progress import JobReporter
    from tensorkart_trainer.settings import TrainerSettings
    from tensorkart_trainer.training import train as run_training

    os.environ["TENSORKART_DATA"] = str(data)
    settings = load_settings(TrainerSettings)
    params = {"datasets": datasets, "epochs": EPOCHS, "evaluate": False, "seed": TRAIN_SEED, **TRAINING, **options}
    if base:
        params["base_model"] = base
    if epochs:
        params["epochs"] = epochs
    result = run_training(
        JobParams.model_validate(params), datasets, settings, JobReporter(None, None), f"study-{time.time_ns()}"
    )
    return result["model_version"]


def policy_for(data: Path, version: str):
    from tensorkart_core.settings import load_settings
    from tensorkart_inference.models import load_model
    from tensorkart_inference.settings import InferenceSettings
    from tensorkart_simulator.pad import Pad

    os.environ["TENSORKART_DATA"] = str(data)
    model = load_model(data, version, load_settings(InferenceSettings))
    names = list(model.outputs)

    def act(frame: np.ndarray, _game) -> Pad:
        values = dict(zip(names, np.asarray(model.predict(model.spec(frame))).tolist(), strict=True))
        return Pad.from_normalised(float(values.get("x", 0.0)), 0.0, a=values.get("a", 1.0) > 0.5)

    return act


def evaluate(data: Path, version: str) -> dict[str, Any]:
    from tensorkart_simulator.suites import Suite, SuiteRun, aggregate, drive, expert_speed, load_suite, score

    act = policy_for(data, version)
    suite = load_suite(SUITE)
    lines = [score(run, suite, drive(run, suite, act, hud=True), expert_speed(run, suite)) for run in suite.runs]
    held_out = aggregate(suite, lines)
    held_out["per_run"] = [
        [Path(line["track"]).stem, line["theme"], line["autonomy"], line["pace"], line["interventions"]]
        for line in lines
    ]
    seen = Suite("training-theme", 1, suite.max_seconds, (SuiteRun("luigi", "raceway", 0, 7),))
    seen_line = score(seen.runs[0], seen, drive(seen.runs[0], seen, act, hud=True), expert_speed(seen.runs[0], seen))
    return {**held_out, "seen_autonomy": seen_line["autonomy"], "seen_pace": seen_line["pace"]}


def dagger_round(
    data: Path,
    version: str,
    name: str,
    frames: int,
    looks: tuple[str, ...] = ("beach", "raceway"),
    laps: list[tuple[str, str]] | None = None,
) -> int:
    """One automated DAgger round in-process: the model drives a lap of each training track in each
    of `looks` (jittered), or the given (track, look) `laps`, the expert takes over near the edge; up
    to `frames` takeover frames are recorded, spread over the laps."""
    from tensorkart_simulator.drivers.takeover import ExpertTakeover
    from tensorkart_simulator.game import Game
    from tensorkart_simulator.render import Mode7Renderer
    from tensorkart_simulator.themes import jittered, load_theme
    from tensorkart_simulator.track import load_track

    act = policy_for(data, version)
    folder = data / "samples" / name
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[str] = []
    laps = laps or [(track, look) for look in looks for track in TRAIN_TRACKS] * (8 // max(1, len(looks)))
    for seed, (track_name, theme) in enumerate(laps):
        track = load_track(track_name)
        game = Game(track)
        renderer = Mode7Renderer(game, theme=jittered(load_theme(theme), seed, 0.6))
        supervisor = ExpertTakeover(seed=seed)
        # the budget is spread over the laps left, so a weak first lap cannot spend all of it
        cap = len(rows) + (frames - len(rows)) // (len(laps) - seed)
        while game.laps < 1 and len(rows) < cap and game.sim_seconds < 90:
            frame = renderer.render()
            advice, active = supervisor.advise(game)
            if active:
                js = advice.joystick()
                Image.fromarray(frame[::2, ::2]).save(folder / f"img_{len(rows)}.png", compress_level=1)
                rows.append(f"samples/{name}/img_{len(rows)}.png,{js.x},{js.y},{int(js.a)},{int(js.b)},{int(js.rb)}")
            game.step(advice if active else act(frame, game))
    (folder / "data.csv").write_text("\n".join(rows) + "\n")
    return len(rows)


def _takeover_rate(data: Path, version: str) -> int:
    """Takeovers the expert needs while `version` drives one lap of each training track in a held-out theme."""
    from tensorkart_simulator.drivers.takeover import ExpertTakeover
    from tensorkart_simulator.game import Game
    from tensorkart_simulator.render import Mode7Renderer
    from tensorkart_simulator.themes import load_theme
    from tensorkart_simulator.track import load_track

    act = policy_for(data, version)
    total = 0
    for seed, (track_name, theme) in enumerate([("heldout", "snow"), ("heldout", "desert")]):
        game = Game(load_track(track_name))
        renderer = Mode7Renderer(game, theme=load_theme(theme))
        supervisor = ExpertTakeover(seed=seed)
        while game.laps < 1 and game.sim_seconds < 90:
            frame = renderer.render()
            advice, active = supervisor.advise(game)
            game.step(advice if active else act(frame, game))
        total += supervisor.takeovers
    return total


def dagger_rounds(data: Path, version: str, options: dict[str, Any]) -> dict[str, Any]:
    """DAGGER_ROUNDS rounds from `version`: drive with takeovers (training tracks, new generated looks),
    add the takeover frames, fine-tune on everything for DAGGER_EPOCHS; takeovers on the held-out laps per round."""
    takeovers = [_takeover_rate(data, version)]
    frames, datasets = [], ["study-full"]
    for number in range(1, DAGGER_ROUNDS + 1):
        name = f"study-dagger-round-{number}"
        looks = tuple(f"random-{100 * number + k}" for k in range(4))
        frames.append(dagger_round(data, version, name, 100_000, looks))
        if frames[-1]:
            datasets.append(name)
            version = train(data, datasets, options, base=version, epochs=DAGGER_EPOCHS)
        takeovers.append(_takeover_rate(data, version))
        log(f"DAgger round {number}: {frames[-1]} takeover frames, takeovers on the held-out laps {takeovers}")
    return {
        "config": "dagger-rounds",
        "model": version,
        "takeover_frames_per_round": frames,
        "takeovers_per_round": takeovers,
        **evaluate(data, version),
    }


ROUND_KEYS = ("round", "takeover_frames", "suite_autonomy", "suite_pace")


def dagger_budget(data: Path, runs: list[dict[str, Any]], options: dict[str, Any]) -> dict[str, Any]:
    """The full pipeline inside the data budget: the full recipe recorded for SECONDS - DAGGER_BUDGET,
    then BUDGET_ROUNDS rounds whose takeover frames share DAGGER_BUDGET seconds; suite after each round."""
    recorded = record(data, "study-full-budget", runs, SECONDS - DAGGER_BUDGET)
    log(f"recorded study-full-budget: {recorded} frames")
    version = train(data, ["study-full-budget"], options)
    rounds = [{"round": 0, "model": version, **evaluate(data, version)}]
    log(f"budget round 0: {json.dumps(rounds[-1])}")
    datasets, left = ["study-full-budget"], int(DAGGER_BUDGET * 30)
    tuning = {key: value for key, value in options.items() if key not in ("trim_start", "trim_end")}
    for number in range(1, BUDGET_ROUNDS + 1):
        name = f"study-budget-round-{number}"
        looks = tuple(f"random-{100 * number + k}" for k in range(4))
        laps = None
        if DAGGER_LAYOUTS == "random":  # a new generated layout for every lap, each in its own new look
            laps = [(f"random-{1000 * number + k}", f"random-{1000 * number + k}") for k in range(8)]
        got = dagger_round(data, version, name, left // (BUDGET_ROUNDS + 1 - number), looks, laps)
        left -= got
        if got:
            datasets.append(name)
            version = train(data, datasets, tuning, base=version, epochs=DAGGER_EPOCHS)
        rounds.append({"round": number, "takeover_frames": got, "model": version, **evaluate(data, version)})
        log(f"budget round {number}: {json.dumps(rounds[-1])}")
    expert_frames = recorded + sum(r.get("takeover_frames", 0) for r in rounds)
    return {
        "config": "dagger-budget",
        "expert_minutes": round(expert_frames / 30 / 60, 2),
        "rounds": [{k: r[k] for k in ROUND_KEYS if k in r} for r in rounds],
        **rounds[-1],
    }


def main() -> int:
    started = time.monotonic()
    data = Path(os.environ.get("STUDY_DATA") or tempfile.mkdtemp(prefix="tensorkart-study-"))
    log(f"data under {data}; {SECONDS:.0f} s of expert driving per configuration, {EPOCHS} epochs, suite {SUITE}")
    plain_runs = [{"track": t, "theme": "raceway", "manoeuvres": False, "seed": i} for i, t in enumerate(TRAIN_TRACKS)]
    recovery_runs = [{**run, "manoeuvres": True} for run in plain_runs]
    look = ["raceway", "beach", *(f"random-{n}" for n in range(1, 7))]  # the demo's eight looks
    full_runs = [
        {"track": TRAIN_TRACKS[i % 2], "theme": theme, "jitter": 0.5, "traffic": 2 * ((i + 1) // 2 % 2), "seed": 10 + i}
        for i, theme in enumerate(look)
    ]
    datasets = {}
    for name, runs, seconds in (
        ("plain", plain_runs, SECONDS),
        ("recoveries", recovery_runs, SECONDS),
        ("full", full_runs, SECONDS),
    ):
        needed = {"plain": ("bc-one-theme", "+flip", "+thin", "+trim", "+crop"), "recoveries": ("+recoveries",)}
        needed |= {"full": ("full", "dagger-rounds")}
        if ONLY and not set(needed[name]) & set(ONLY):
            continue
        datasets[name] = record(data, f"study-{name}", runs, seconds)
        log(f"recorded study-{name}: {datasets[name]} frames")
    thin = {"thin_straight": 0.7}
    trim = {"trim_start": 60, "trim_end": 60}
    crop = {"preprocess": {"interpolation": "pyramid", "scale": "unit", "width": 200, "height": 66, **CROP}}
    no_flip = {"augmentation": {"flip": 0.0}}
    configs = [
        ("bc-one-theme", "plain", no_flip),
        ("+flip", "plain", {}),
        ("+thin", "plain", thin),
        ("+trim", "plain", {**thin, **trim}),
        ("+crop", "plain", {**thin, **trim, **crop}),
        ("+recoveries", "recoveries", {**thin, **trim, **crop}),
        ("full", "full", {**thin, **trim, **crop, "augmentation": {"flip": 0.5, **PHOTOMETRIC}}),
    ]
    results = {}
    if "dagger-budget" in ONLY or not ONLY:
        results["dagger-budget"] = dagger_budget(data, full_runs, configs[-1][2])
        print(json.dumps(results["dagger-budget"]), flush=True)
    for label, source, options in configs:
        if ONLY and label not in ONLY and not (label == "full" and "dagger-rounds" in ONLY):
            continue
        version = train(data, [f"study-{source}"], options)
        results[label] = {"config": label, "model": version, **evaluate(data, version)}
        print(json.dumps(results[label]), flush=True)
        if label == "full" and (not ONLY or "dagger-rounds" in ONLY):
            results["dagger-rounds"] = dagger_rounds(data, version, options)
            print(json.dumps(results["dagger-rounds"]), flush=True)
    summary = {key: [value["suite_autonomy"], value["suite_pace"]] for key, value in results.items()}
    print(json.dumps({"study": "done", "minutes": round((time.monotonic() - started) / 60, 1), "suite": summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
