"""`tensorkart dagger --rounds N --model VERSION --dataset NAME...`: automated DAgger on the practice track.

Each round: the current model drives (its own child process: private inference server pinned to
the model, lock-step controller, headless practice track); the expert takes over as a human
holding LB would when the kart is about to leave the road and hands back once recovered, and the
takeover frames are recorded through the running recorder (RECORDER_ADDR) as
`<session>-rN-interventions`; then a new model is trained on everything (the --dataset names plus
every interventions dataset so far) through the trainer's REST API (TRAINER_URL), fine-tuned
from the current one, and promoted. After the last round the final model drives once more
(measured only). One JSON line per round (`round`, `model`, `takeovers`, `takeover_seconds`,
`takeovers_per_min`, `interventions`, `sim_seconds`, `dataset`, `next_model`), then a summary
line with the takeovers per round. Needs `tensorkart up` (recorder and trainer).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from tensorkart_cli.settings import cli_settings


def _tensorkart(args: list[str], what: str) -> str:
    """Run a tensorkart command; its last stdout line (progress goes to the terminal)."""
    completed = subprocess.run(
        [sys.executable, "-m", "tensorkart_cli.main", *args], stdout=subprocess.PIPE, text=True, check=False
    )
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    if completed.returncode != 0 or not lines:
        typer.echo(f"error: {what} failed (exit {completed.returncode})", err=True)
        raise typer.Exit(1)
    return lines[-1]


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
        typer.echo(f"error: the drive of round {session} failed (exit {completed.returncode})", err=True)
        raise typer.Exit(1)
    return json.loads(lines[-1])


def dagger(
    rounds: Annotated[int, typer.Option("--rounds", min=1, max=50, help="DAgger rounds")] = 3,
    model: Annotated[str, typer.Option("--model", help="the model to start from (models/<version>)")] = ...,  # type: ignore[assignment]
    dataset: Annotated[
        list[str], typer.Option("--dataset", "-d", help="the expert datasets the models are trained on (repeat)")
    ] = ...,  # type: ignore[assignment]
    track: Annotated[str, typer.Option(help="practice track driven each round")] = "luigi",
    theme: Annotated[str | None, typer.Option(help="its theme (name or file)")] = None,
    traffic: Annotated[int, typer.Option(min=0, help="computer karts")] = 0,
    laps: Annotated[int, typer.Option(min=1, help="laps driven each round")] = 1,
    epochs: Annotated[int, typer.Option(min=1, help="fine-tuning epochs per round")] = 3,
    session: Annotated[str | None, typer.Option(help="name prefix of the interventions datasets")] = None,
    seed: Annotated[int, typer.Option(help="simulator seed of round 1 (round r uses seed + r - 1)")] = 0,
    data: Annotated[Path | None, typer.Option(help="data root [default: TENSORKART_DATA or ./data]")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="show the private services' logs")] = False,
) -> None:
    """Automated DAgger: model drives, expert takes over near the edge, retrain on everything, promote, repeat."""
    from tensorkart_core.registry import RegistryError, read_metadata

    data_root = data or cli_settings().data_root
    try:
        read_metadata(data_root, model)
    except RegistryError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    recorder = cli_settings().recorder_addr
    session = session or time.strftime("dagger-%Y%m%d-%H%M%S", time.gmtime())
    drive_args = {"track": track, "theme": theme, "traffic": traffic, "laps": laps}
    interventions: list[str] = []
    per_round: list[int] = []
    current = model
    for number in range(1, rounds + 2):
        final = number == rounds + 1
        name = f"{session}-r{number}"
        typer.echo(f"round {number}: {current} drives {track}" + (" (final, measured only)" if final else ""), err=True)
        result = _drive(current, data_root, recorder, name, {**drive_args, "seed": seed + number - 1}, verbose)
        sim = result["sim"]
        line = {
            "round": number,
            "model": current,
            "takeovers": sim["takeovers"],
            "takeover_seconds": sim["takeover_seconds"],
            "takeovers_per_min": round(sim["takeovers"] * 60.0 / max(sim["sim_seconds"], 1e-9), 3),
            "interventions": sim["interventions"],
            "sim_seconds": sim["sim_seconds"],
        }
        per_round.append(sim["takeovers"])
        if not final:
            if sim["takeovers"]:
                interventions.append(f"{name}-interventions")
                line["dataset"] = interventions[-1]
            train = ["train", "--epochs", str(epochs), "--no-eval", "--no-promote", "--base-model", current]
            train += ["--flip", "0.5", "--quiet"]
            for item in [*dataset, *interventions]:
                train += ["--dataset", item]
            typer.echo(f"round {number}: training on {len(dataset) + len(interventions)} datasets", err=True)
            current = _tensorkart(train, "training").strip()
            _tensorkart(["models", "promote", current], "promoting")
            line["next_model"] = current
        typer.echo(json.dumps(line))
    typer.echo(json.dumps({"dagger": "done", "rounds": rounds, "takeovers_per_round": per_round, "model": current}))
