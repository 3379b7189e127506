"""`tensorkart dagger --rounds N --model VERSION --dataset NAME...`: automated DAgger on the practice track.

Each round the current model drives every --track in every --theme (else in its own look), plus
--random-tracks generated layouts, new every round, each in its own generated look (`random-N`
tracks and themes), every look seeded and jittered (--theme-jitter); each drive in its own child
process (private inference server pinned to the model, lock-step controller, headless practice
track). Generated layouts are the layout randomisation that lets the rounds' corrections carry over
to layouts never driven (docs/study.md). The expert takes over
as a human holding LB would when the kart is about to leave the road and hands back once
recovered; the takeover frames are recorded through the running recorder (RECORDER_ADDR) as
`<session>-rR-dD-interventions`. Then a new model is fine-tuned from the current one on everything
(the --dataset names plus every interventions dataset so far) through the trainer's REST API
(TRAINER_URL), with the recipe the starting model was trained with (its metadata: augmentation,
pre-processing, outputs, batch size, ...), and promoted.

--budget-seconds caps the expert's takeover driving over all rounds: each round gets an equal share
of what is left and each drive an equal share of what is left of its round (a drive ends when its
share is spent), so the whole expert effort stays inside a data budget.

After the last round the final model drives once more (measured only; --no-final-drive skips it).
One JSON line per round (`round`, `model`, `drives`, `takeovers`, `takeover_seconds`,
`takeovers_per_min`, `interventions`, `sim_seconds`, `datasets`, `next_model`), then a summary line
with the takeovers per minute per round. Needs `tensorkart up` (recorder and trainer).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from tensorkart_cli.errors import CliError
from tensorkart_cli.settings import cli_settings

# Job parameters that belong to one job, not to the recipe a fine-tuning round keeps.
NOT_RECIPE = ("datasets", "epochs", "base_model", "trim_start", "trim_end", "evaluate", "promote", "eval_tracks")


@dataclass(frozen=True)
class Drive:
    """One drive of a round: a track in a look."""

    track: str
    theme: str | None


def round_drives(tracks: list[str], themes: list[str], random_tracks: int, number: int) -> list[Drive]:
    """Round `number`'s drives: every track in every theme (else its own look), then the round's
    generated layouts, each in a generated look of the same number (new numbers every round)."""
    looks: list[str | None] = list(themes) or [None]
    generated = (f"random-{1000 + 100 * number + k}" for k in range(random_tracks))
    return [Drive(track, look) for look in looks for track in tracks] + [Drive(name, name) for name in generated]


def fine_tuning_params(base_metadata: dict[str, Any], datasets: list[str], base: str, epochs: int) -> dict[str, Any]:
    """The starting model's training recipe (its job parameters) for a fine-tuning job on `datasets`."""
    recipe = dict((base_metadata.get("job") or {}).get("params") or {})
    params = {key: value for key, value in recipe.items() if key not in NOT_RECIPE}
    params.pop("preprocess", None)  # a fine-tuned model keeps its base model's pre-processing
    return {**params, "datasets": datasets, "epochs": epochs, "base_model": base, "evaluate": False, "promote": False}


def _fine_tune_and_promote(params: dict[str, Any], quiet: bool) -> str:
    """A training job through the REST API, followed to its end, then promoted; the new model version."""
    from tensorkart_cli.commands._trainer_client import call, require
    from tensorkart_cli.commands.jobs import follow_job

    require(None)
    job = call(None, "POST", "/v1/jobs", "see: tensorkart train --help", json=params)
    view = follow_job(None, job["id"], quiet)
    if view["state"] != "finished":
        raise CliError(f"fine-tuning job {job['id']} ended {view['state']}: {view.get('error') or 'no reason given'}")
    version = str(view["model_version"])
    call(None, "POST", f"/v1/models/{version}/promote", "see: tensorkart models list")
    return version


def _drive(model: str, data: Path, recorder: str, session: str, args: dict, verbose: bool) -> dict:
    command = [sys.executable, "-m", "tensorkart_cli.dagger_round", "--model", model, "--data", str(data)]
    command += ["--recorder", recorder, "--session", session]
    for key, value in args.items():
        if value is not None:
            command += [f"--{key}", str(value)]
    if verbose:
        command.append("--verbose")
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    if completed.returncode != 0 or not lines:
        raise CliError(f"the drive {session} failed (exit {completed.returncode})", "run again with --verbose")
    return json.loads(lines[-1])["sim"]


@dataclass(frozen=True)
class DriveSettings:
    """What every drive shares: where data and the recorder are, the look's jitter, karts, laps."""

    data_root: Path
    recorder: str
    theme_jitter: float
    traffic: int
    laps: int


@dataclass(frozen=True)
class RoundPlan:
    """One round's drives, the round's takeover budget (None: no cap) and its first seed."""

    name: str
    drives: list[Drive]
    budget: float | None
    seed: int


def drive_round(model: str, plan: RoundPlan, settings: DriveSettings, jobs: int, verbose: bool):
    """Drive every (track, look) of a round, `jobs` at a time, each with an equal share of what is
    left of the round's budget; (totals over the drives, the interventions datasets recorded)."""
    left = plan.budget
    totals = {"takeovers": 0, "takeover_seconds": 0.0, "interventions": 0, "sim_seconds": 0.0}
    recorded: list[str] = []
    numbered = list(enumerate(plan.drives))
    for start in range(0, len(numbered), jobs):
        share = None if left is None else left / (len(numbered) - start)
        runs = []
        for index, item in numbered[start : start + jobs]:
            args = {"track": item.track, "theme": item.theme, "theme-jitter": settings.theme_jitter}
            args |= {"traffic": settings.traffic, "laps": settings.laps, "seed": plan.seed + index}
            runs.append((f"{plan.name}-d{index + 1}", {**args, "takeover-budget": share}))
        with ThreadPoolExecutor(len(runs)) as pool:
            reports = list(
                pool.map(lambda run: _drive(model, settings.data_root, settings.recorder, *run, verbose), runs)
            )
        for (name, _), sim in zip(runs, reports, strict=True):
            for key in totals:
                totals[key] += sim[key]
            if left is not None:
                left = max(0.0, left - sim["takeover_seconds"])
            if sim["takeovers"]:
                recorded.append(f"{name}-interventions")
    return totals, recorded


def dagger(
    rounds: Annotated[int, typer.Option("--rounds", min=1, max=50, help="DAgger rounds")] = 3,
    model: Annotated[str, typer.Option("--model", help="the model to start from (models/<version>)")] = ...,  # type: ignore[assignment]
    dataset: Annotated[
        list[str], typer.Option("--dataset", "-d", help="the expert datasets the models are trained on (repeat)")
    ] = ...,  # type: ignore[assignment]
    track: Annotated[
        list[str] | None,
        typer.Option(help="practice track driven each round (repeat) [default: luigi, unless --random-tracks]"),
    ] = None,
    theme: Annotated[
        list[str] | None, typer.Option(help="look driven on every track (repeat; name or file) [default: its own]")
    ] = None,
    random_tracks: Annotated[
        int, typer.Option(min=0, max=50, help="generated layouts per round, new each round, each in a generated look")
    ] = 0,
    theme_jitter: Annotated[float, typer.Option(min=0.0, max=1.0, help="seeded lighting and colour jitter")] = 0.0,
    traffic: Annotated[int, typer.Option(min=0, help="computer karts")] = 0,
    laps: Annotated[int, typer.Option(min=1, help="laps per drive")] = 1,
    epochs: Annotated[int, typer.Option(min=1, help="fine-tuning epochs per round")] = 3,
    budget_seconds: Annotated[
        float | None, typer.Option(min=0.0, help="expert takeover seconds over all rounds [default: no cap]")
    ] = None,
    jobs: Annotated[int, typer.Option(min=1, max=16, help="drives at a time (each its own private stack)")] = 1,
    final_drive: Annotated[
        bool, typer.Option("--final-drive/--no-final-drive", help="measure the last model with one more round")
    ] = True,
    session: Annotated[str | None, typer.Option(help="name prefix of the interventions datasets")] = None,
    seed: Annotated[int, typer.Option(help="simulator seed of round 1's first drive")] = 0,
    data: Annotated[Path | None, typer.Option(help="data root [default: TENSORKART_DATA or ./data]")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="show the private services' logs")] = False,
) -> None:
    """Automated DAgger: model drives, expert takes over near the edge, retrain on everything, promote, repeat."""
    from tensorkart_core.registry import RegistryError, read_metadata

    data_root = data or cli_settings().data_root
    try:
        base_metadata = read_metadata(data_root, model)
    except RegistryError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    settings = DriveSettings(data_root, cli_settings().recorder_addr, theme_jitter, traffic, laps)
    session = session or time.strftime("dagger-%Y%m%d-%H%M%S", time.gmtime())
    tracks, themes = track or ([] if random_tracks else ["luigi"]), theme or []
    interventions: list[str] = []
    per_round: list[float] = []
    budget_left = budget_seconds
    current = model
    last = rounds + 1 if final_drive else rounds
    for number in range(1, last + 1):
        final = number == rounds + 1
        drives = round_drives(tracks, themes, random_tracks, number)
        listed = ", ".join(f"{d.track}/{d.theme or 'own look'}" for d in drives)
        typer.echo(
            f"round {number}: {current} drives {len(drives)} laps ({listed})"
            + (" (final, measured only)" if final else ""),
            err=True,
        )
        round_budget = None if final or budget_left is None else budget_left / (rounds + 1 - number)
        plan = RoundPlan(f"{session}-r{number}", drives, round_budget, seed + 100 * (number - 1))
        totals, recorded = drive_round(current, plan, settings, jobs, verbose)
        if final:
            recorded = []  # the measuring drive's takeovers are not trained on
        if budget_left is not None and not final:
            budget_left = max(0.0, budget_left - totals["takeover_seconds"])
        rate = round(totals["takeovers"] * 60.0 / max(totals["sim_seconds"], 1e-9), 3)
        totals = {key: round(value, 3) for key, value in totals.items()}
        line: dict[str, Any] = {"round": number, "model": current, "drives": len(drives), **totals}
        line["takeovers_per_min"] = rate
        per_round.append(rate)
        if not final:
            interventions += recorded
            line["datasets"] = recorded
            typer.echo(f"round {number}: fine-tuning on {len(dataset) + len(interventions)} datasets", err=True)
            params = fine_tuning_params(base_metadata, [*dataset, *interventions], current, epochs)
            current = _fine_tune_and_promote(params, quiet=True)
            line["next_model"] = current
        typer.echo(json.dumps(line))
    summary = {"dagger": "done", "rounds": rounds, "takeovers_per_min_per_round": per_round, "model": current}
    summary["interventions_datasets"] = interventions
    if budget_seconds is not None:
        summary["takeover_seconds_used"] = round(budget_seconds - (budget_left or 0.0), 3)
    typer.echo(json.dumps(summary))
