"""`tensorkart train`: start a training job through the trainer's REST API and follow it live.

The last line printed is the new model version (nothing else on stdout), so scripts can
capture it: `version=$(tensorkart train --dataset luigi-1 | tail -n1)`.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import typer

from tensorkart_cli.commands._trainer_client import TrainerError, check, client, trainer_url

TERMINAL = ("finished", "failed", "canceled")


def _params(**options: Any) -> dict[str, Any]:
    params: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
    aug = {k: params.pop(k) for k in ("flip", "shift_px", "rotate_deg", "brightness") if k in params}
    if aug:
        params["augmentation"] = aug
    if "outputs" in params:
        params["outputs"] = [o.strip() for o in params["outputs"].split(",") if o.strip()]
    if "crop" in params:
        parts = params.pop("crop").split(",")
        if len(parts) != 4:
            raise typer.BadParameter("--crop needs LEFT,TOP,RIGHT,BOTTOM fractions, e.g. 0,0.2,1,0.9")
        try:
            left, top, right, bottom = (float(p) for p in parts)
        except ValueError:
            raise typer.BadParameter("--crop values must be numbers") from None
        params["preprocess"] = {"crop_left": left, "crop_top": top, "crop_right": right, "crop_bottom": bottom}
    return params


def follow(http: httpx.Client, job_id: str, quiet: bool = False) -> dict[str, Any]:
    """Poll the job and draw a live progress bar (stderr) until it ends; return the final view."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = Console(stderr=True)
    seen_log: set[str] = set()
    columns = [
        TextColumn("[bold]{task.fields[state]}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("epoch {task.fields[epoch]} step {task.fields[step]}"),
        TextColumn("loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=console, disable=quiet, transient=False) as progress:
        task = progress.add_task("train", total=1.0, state="queued", epoch="-", step="-", loss="-")
        while True:
            view = check(http.get(f"/v1/jobs/{job_id}"))
            for line in view.get("log", []):
                if line not in seen_log:
                    seen_log.add(line)
                    progress.console.print(f"[dim]{line}")
            p = view.get("progress") or {}
            loss = p.get("loss")
            progress.update(
                task,
                completed=float(p.get("fraction") or 0.0) if view["state"] != "finished" else 1.0,
                state=view.get("phase") or view["state"],
                epoch=f"{p.get('epoch', 0)}/{p.get('epochs', '?')}",
                step=f"{p.get('step', 0)}/{p.get('steps') or '?'}",
                loss=f"{loss:.4f}" if isinstance(loss, int | float) else "-",
            )
            if view["state"] in TERMINAL:
                return view
            time.sleep(0.5)


def train(
    dataset: Annotated[list[str], typer.Option("--dataset", "-d", help="dataset name or glob (repeat for more)")],
    epochs: Annotated[int | None, typer.Option(help="epochs (default 10)")] = None,
    batch_size: Annotated[int | None, typer.Option(help="batch size (default 50)")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="Adam learning rate (default 1e-4)")] = None,
    validation_split: Annotated[float | None, typer.Option(help="held-out fraction (default 0.1)")] = None,
    outputs: Annotated[str | None, typer.Option(help="outputs to train, e.g. x,a (default) or x,y,a,b,rb")] = None,
    loss: Annotated[str | None, typer.Option(help="mse (default) or euclidean (TensorKart's)")] = None,
    flip: Annotated[float | None, typer.Option(help="mirror probability, x negated (default 0.5)")] = None,
    shift_px: Annotated[float | None, typer.Option(help="lateral shift augmentation, pixels")] = None,
    rotate_deg: Annotated[float | None, typer.Option(help="rotation augmentation, degrees")] = None,
    brightness: Annotated[float | None, typer.Option(help="brightness augmentation, relative")] = None,
    thin_straight: Annotated[float | None, typer.Option(help="fraction of straight frames dropped")] = None,
    trim_start: Annotated[int | None, typer.Option(help="frames dropped at each dataset's start")] = None,
    trim_end: Annotated[int | None, typer.Option(help="frames dropped at each dataset's end")] = None,
    crop: Annotated[str | None, typer.Option(help="crop box LEFT,TOP,RIGHT,BOTTOM as fractions")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed")] = None,
    base_model: Annotated[str | None, typer.Option(help="model version to fine-tune")] = None,
    on_bad_data: Annotated[str | None, typer.Option(help="skip (default) or fail")] = None,
    evaluate: Annotated[bool | None, typer.Option("--eval/--no-eval", help="closed-loop evaluation after")] = None,
    eval_track: Annotated[list[str] | None, typer.Option(help="evaluation track (repeat; default luigi)")] = None,
    eval_laps: Annotated[int | None, typer.Option(help="laps per evaluation")] = None,
    promote: Annotated[bool | None, typer.Option("--promote/--no-promote", help="promote the new model")] = None,
    url: Annotated[str | None, typer.Option(help="trainer URL (default $TRAINER_URL or http://127.0.0.1:8000)")] = None,
    detach: Annotated[bool, typer.Option(help="print the job id and return at once")] = False,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Start a training job through the REST API and follow it; prints the model version last."""
    params = _params(
        datasets=dataset,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        validation_split=validation_split,
        outputs=outputs,
        loss=loss,
        flip=flip,
        shift_px=shift_px,
        rotate_deg=rotate_deg,
        brightness=brightness,
        thin_straight=thin_straight,
        trim_start=trim_start,
        trim_end=trim_end,
        crop=crop,
        seed=seed,
        base_model=base_model,
        on_bad_data=on_bad_data,
        evaluate=evaluate,
        eval_tracks=eval_track,
        eval_laps=eval_laps,
        promote=promote,
    )
    try:
        with client(url) as http:
            job = check(http.post("/v1/jobs", json=params))
            typer.echo(f"job {job['id']} queued on {trainer_url(url)} for {', '.join(job['datasets'])}", err=True)
            if detach:
                typer.echo(job["id"])
                return
            try:
                view = follow(http, job["id"], quiet)
            except KeyboardInterrupt:
                typer.echo(f"\nstopped following; the job goes on (cancel: DELETE /v1/jobs/{job['id']})", err=True)
                raise typer.Exit(130) from None
    except httpx.HTTPError as error:
        typer.echo(f"cannot reach the trainer at {trainer_url(url)}: {error}", err=True)
        raise typer.Exit(1) from None
    except TrainerError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    if view["state"] != "finished":
        typer.echo(f"job {view['id']} {view['state']}: {view.get('error') or ''}".rstrip(": "), err=True)
        raise typer.Exit(1)
    metrics = view.get("metrics") or {}
    shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if k in ("loss", "val_loss", "val_mae"))
    typer.echo(f"job {view['id']} finished: {shown}", err=True)
    typer.echo(view["model_version"])
