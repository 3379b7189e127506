"""Evaluation suites: declared lists of (track, theme, traffic, seed) runs, and how a run is scored.

A suite is JSON (format in docs/simulator.md): {"name", "laps", "runs": [{"track", "theme",
"traffic", "seed"}, ...]}, optionally "max_seconds" (simulated-time cap per run; default 90 s a
lap). Track paths are relative to the suite file. Built-in suites: `heldout` (the default: layouts
and themes no demo recording uses) and `quick` (a two-run smoke test).

Each run is scored against the expert driving the same (track, traffic, seed): autonomy, the share
of the laps completed, lap time relative to the expert (model time per lap / expert time per lap,
from average speed along the track, so an unfinished lap still has one), its inverse `pace`, and
interventions per minute.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from tensorkart_simulator.drivers.expert import ExpertDriver
from tensorkart_simulator.game import Game
from tensorkart_simulator.options import MAX_TRAFFIC, SimOptions
from tensorkart_simulator.pad import Pad
from tensorkart_simulator.render import Mode7Renderer
from tensorkart_simulator.runner import make_report
from tensorkart_simulator.themes import ThemeError, load_theme
from tensorkart_simulator.track import TrackError, load_track
from tensorkart_simulator.traffic import Traffic

BUILTIN_SUITES = ("heldout", "quick")
DEFAULT_SUITE = "heldout"
SECONDS_PER_LAP_CAP = 90.0
RUN_KEYS = {"track", "theme", "traffic", "seed"}


class SuiteError(ValueError):
    """A suite that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class SuiteRun:
    track: str  # built-in name or an absolute track file path
    theme: str
    traffic: int
    seed: int


@dataclass(frozen=True)
class Suite:
    name: str
    laps: int
    max_seconds: float
    runs: tuple[SuiteRun, ...]


def builtin_path(name: str) -> Path:
    return Path(str(resources.files("tensorkart_simulator") / "suites" / f"{name}.json"))


def load_suite(name_or_file: str) -> Suite:
    """A built-in suite name or a suite file -> the validated Suite (every track and theme loads)."""
    if name_or_file in BUILTIN_SUITES:
        path = builtin_path(name_or_file)
    else:
        path = Path(name_or_file)
        if not path.is_file():
            known = ", ".join(BUILTIN_SUITES)
            raise SuiteError(f"unknown suite {name_or_file!r}: use a built-in ({known}) or a suite .json file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise SuiteError(f"{path}: cannot read suite file: {error}") from None
    except json.JSONDecodeError as error:
        raise SuiteError(f"{path}: malformed JSON: {error}") from None
    return parse_suite(data, path)


def _int(value: object, what: str, low: int, high: int, source: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SuiteError(f"{source}: {what} must be an integer {low}..{high}, got {json.dumps(value)[:40]}")
    return value


def parse_suite(data: object, source: Path) -> Suite:
    if not isinstance(data, dict):
        raise SuiteError(f"{source}: a suite must be a JSON object with name, laps and runs")
    for key in ("name", "runs"):
        if key not in data:
            raise SuiteError(f"{source}: missing key {key!r}")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise SuiteError(f"{source}: 'name' must be a non-empty string")
    laps = _int(data.get("laps", 1), "'laps'", 1, 20, source)
    cap = data.get("max_seconds", SECONDS_PER_LAP_CAP * laps)
    if isinstance(cap, bool) or not isinstance(cap, int | float) or not 0 < cap <= 3600:
        raise SuiteError(f"{source}: 'max_seconds' must be a number of seconds in (0, 3600]")
    raw_runs = data["runs"]
    if not isinstance(raw_runs, list) or not raw_runs:
        raise SuiteError(f"{source}: 'runs' must be a non-empty list of {{track, theme, traffic, seed}}")
    runs = []
    for i, raw in enumerate(raw_runs):
        if not isinstance(raw, dict) or set(raw) != RUN_KEYS:
            got = sorted(raw) if isinstance(raw, dict) else json.dumps(raw)[:40]
            raise SuiteError(f"{source}: run {i} must have exactly the keys seed, theme, track, traffic; got {got}")
        track, theme = raw["track"], raw["theme"]
        if not isinstance(track, str) or not isinstance(theme, str):
            raise SuiteError(f"{source}: run {i}: 'track' and 'theme' must be strings")
        if track.endswith(".json") and not Path(track).is_absolute():
            track = str(source.parent / track)
        if theme.endswith(".json") and not Path(theme).is_absolute():
            theme = str(source.parent / theme)
        try:
            load_track(track)
            load_theme(theme)
        except (TrackError, ThemeError) as error:
            raise SuiteError(f"{source}: run {i}: {error}") from None
        traffic = _int(raw["traffic"], f"run {i}: 'traffic'", 0, MAX_TRAFFIC, source)
        seed = _int(raw["seed"], f"run {i}: 'seed'", 0, 2**31 - 1, source)
        runs.append(SuiteRun(track, theme, traffic, seed))
    return Suite(name.strip(), laps, float(cap), tuple(runs))


def expert_speed(run: SuiteRun, suite: Suite) -> float:
    """The expert's average speed along the track (m/s) on the same run, same laps and cap (physics only)."""
    track = load_track(run.track)
    game = Game(track, traffic=Traffic(track, run.traffic, seed=run.seed) if run.traffic else None)
    expert = ExpertDriver(seed=run.seed)
    while game.laps < suite.laps and game.sim_seconds < suite.max_seconds - 1e-9:
        game.step(expert.act(game))
    return game.progress / game.sim_seconds


def score(run: SuiteRun, suite: Suite, report: dict[str, Any], expert_mps: float) -> dict[str, Any]:
    """One suite line from a simulator report (which carries "progress", laps driven as a fraction)."""
    laps, track_length_m = suite.laps, load_track(run.track).centre.length
    seconds = float(report["sim_seconds"])
    progress = max(0.0, float(report["progress"]))
    speed = progress * track_length_m / seconds if seconds > 0 else 0.0
    pace = speed / expert_mps if expert_mps > 0 else 0.0
    return {
        **asdict(run),
        "track": load_track(run.track).name,
        "theme": load_theme(run.theme).name,
        "autonomy": report["autonomy"],
        "lap_completed_pct": round(min(1.0, progress / laps) * 100.0, 1),
        "lap_time_vs_expert": round(1.0 / pace, 3) if pace > 0 else None,
        "pace": round(pace, 4),
        "interventions": report["interventions"],
        "interventions_per_min": round(report["interventions"] * 60.0 / seconds, 3) if seconds > 0 else 0.0,
        "sim_seconds": seconds,
    }


def aggregate(suite: Suite, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The suite's last line: means over its runs."""
    count = max(1, len(lines))

    def mean(key: str) -> float:
        return sum(float(line[key]) for line in lines) / count

    return {
        "suite": suite.name,
        "runs": len(lines),
        "suite_autonomy": round(mean("autonomy"), 4),
        "suite_pace": round(mean("pace"), 4),
        "lap_completed_pct": round(mean("lap_completed_pct"), 1),
        "interventions_per_min": round(mean("interventions_per_min"), 3),
    }


Policy = Callable[[np.ndarray, Game], Pad]


def drive(run: SuiteRun, suite: Suite, policy: Policy, hud: bool = False) -> dict[str, Any]:
    """Drive one run in this process: `policy(frame, game)` picks the pad for each rendered frame
    (a model in a study, the expert in tests). Returns the simulator's report for the run."""
    options = SimOptions(
        track=run.track, theme=run.theme, traffic=run.traffic, seed=run.seed, laps=suite.laps, hud=hud, headless=True
    )
    track = load_track(run.track)
    game = Game(track, traffic=Traffic(track, run.traffic, seed=run.seed) if run.traffic else None)
    renderer = Mode7Renderer(game, hud=hud, laps=suite.laps, theme=load_theme(run.theme))
    while game.laps < suite.laps and game.sim_seconds < suite.max_seconds - 1e-9:
        game.step(policy(renderer.render(), game))
    return make_report(options, game, 0.0)
