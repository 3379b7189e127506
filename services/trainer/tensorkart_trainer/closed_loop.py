"""Closed-loop evaluation inside the training worker: the new model drives the practice track
in-process (tensorkart_simulator's Gymnasium environment, a library dependency of the trainer like
core) and the result is a typed record stored in model.json's `evaluation`.

Why in the worker and not an evaluation queue: the worker already holds the model, TensorFlow and
the data volume; the simulator is a small pure-Python package (numpy + pygame surfaces, no display)
so the same image runs it, compose and Kubernetes need no new service, and a model trained through
`docker compose` gets its autonomy the same way as one trained locally. The surface used is small:
`PracticeTrackEnv(track, laps, max_steps)`, `reset()`, `step([x, y, a, b, rb])` and the info keys
`laps`, `sim_seconds`, `interventions`, `autonomy`.

The pad follows the controller's default calibration: A is held (hold_a), the model's outputs set
the stick and, when it has them, the other buttons. Simulated time is capped per lap so a model
that never finishes a lap still ends; its autonomy then covers the time driven.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_trainer.pilotnet import OUTPUT_NAMES

GAME_HZ = 30


class TrackResult(BaseModel):
    """One track driven by the model: NVIDIA PilotNet's autonomy over the simulated time."""

    track: str
    laps: int
    laps_done: int
    sim_seconds: float
    interventions: int
    autonomy: float
    capped: bool
    wall_seconds: float


class TrackFailure(BaseModel):
    error: str


class Evaluation(BaseModel):
    """model.json's `evaluation`: done (every track driven), partial, or skipped with the reason."""

    status: Literal["done", "partial", "skipped"]
    reason: str | None
    tracks: dict[str, TrackResult | TrackFailure]


Policy = Callable[[np.ndarray], np.ndarray]


def keras_policy(model: Any, spec: PreprocessSpec) -> Policy:
    """Screen frame (480x640x3 uint8) -> the model's outputs for it."""

    def act(frame: np.ndarray) -> np.ndarray:
        return np.asarray(model(spec(frame)[None], training=False))[0]

    return act


def action_of(outputs: list[str], values: np.ndarray) -> np.ndarray:
    """The environment's [x, y, a, b, rb] from the model's outputs; A held as the controller does."""
    action = np.zeros(len(OUTPUT_NAMES), dtype=np.float32)
    for name, value in zip(outputs, values, strict=True):
        action[OUTPUT_NAMES.index(name)] = value
    action[OUTPUT_NAMES.index("a")] = 1.0
    return action


def drive(policy: Policy, outputs: list[str], track: str, laps: int, max_seconds_per_lap: float) -> TrackResult:
    """Drive `laps` laps of `track` (or until the simulated-time cap) and report the autonomy."""
    from tensorkart_simulator.gym_env import PracticeTrackEnv

    max_steps = max(1, round(max_seconds_per_lap * laps * GAME_HZ))
    env = PracticeTrackEnv(track, laps=laps, max_steps=max_steps)
    started = time.monotonic()
    frame, info = env.reset()
    terminated = truncated = False
    while not (terminated or truncated):
        frame, _, terminated, truncated, info = env.step(action_of(outputs, policy(frame)))
    return TrackResult(
        track=track,
        laps=laps,
        laps_done=int(info["laps"]),
        sim_seconds=round(float(info["sim_seconds"]), 3),
        interventions=int(info["interventions"]),
        autonomy=round(float(info["autonomy"]), 4),
        capped=not terminated,
        wall_seconds=round(time.monotonic() - started, 2),
    )


def evaluate(
    policy: Policy,
    outputs: list[str],
    tracks: list[str],
    laps: int,
    max_seconds_per_lap: float,
    log: Callable[[str], None],
) -> Evaluation:
    """Every track in turn; a track that cannot be driven (unknown name, simulator error) is recorded."""
    results: dict[str, TrackResult | TrackFailure] = {}
    for track in tracks:
        log(f"evaluating on {track}: {laps} lap(s), at most {max_seconds_per_lap:.0f} simulated s a lap")
        try:
            result = drive(policy, outputs, track, laps, max_seconds_per_lap)
        except (OSError, ValueError, KeyError, RuntimeError) as error:
            results[track] = TrackFailure(error=f"{type(error).__name__}: {error}")
            log(f"evaluation on {track} failed: {results[track].error}")
            continue
        results[track] = result
        log(
            f"evaluation on {track}: autonomy {result.autonomy:.3f}, {result.laps_done}/{laps} lap(s), "
            f"{result.interventions} intervention(s) in {result.sim_seconds:.1f} simulated s"
        )
    ok = [t for t, r in results.items() if isinstance(r, TrackResult)]
    if not ok:
        reasons = "; ".join(f"{t}: {r.error}" for t, r in results.items() if isinstance(r, TrackFailure))
        return Evaluation(status="skipped", reason=f"evaluation failed ({reasons or 'no tracks'})", tracks=results)
    return Evaluation(status="done" if len(ok) == len(results) else "partial", reason=None, tracks=results)
