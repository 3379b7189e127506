"""`tensorkart train`: start a training job through the trainer's REST API and follow it live.

The last line printed is the new model version (nothing else on stdout), so scripts can
capture it: `version=$(tensorkart train --dataset luigi-1 | tail -n1)`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tensorkart_cli.commands._trainer_client import UrlOption, call, require, trainer_url
from tensorkart_cli.commands.jobs import finish, follow_job

AUGMENTATION_OPTIONS = (
    "flip",
    "shift_px",
    "rotate_deg",
    "brightness",
    "contrast",
    "saturation",
    "hue",
    "grayscale",
    "channel_shuffle",
)


def _params(**options: Any) -> dict[str, Any]:
    params: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
    aug = {k: params.pop(k) for k in AUGMENTATION_OPTIONS if k in params}
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
    contrast: Annotated[float | None, typer.Option(help="contrast augmentation, relative")] = None,
    saturation: Annotated[float | None, typer.Option(help="saturation augmentation, relative")] = None,
    hue: Annotated[float | None, typer.Option(help="hue augmentation, fraction of the colour circle")] = None,
    grayscale: Annotated[float | None, typer.Option(help="probability of a grey frame")] = None,
    channel_shuffle: Annotated[float | None, typer.Option(help="probability of permuted R, G, B channels")] = None,
    early_stopping_patience: Annotated[
        int | None, typer.Option(help="epochs without a better validation loss before stopping (0: never)")
    ] = None,
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
    url: UrlOption = None,
    detach: Annotated[
        bool, typer.Option("--detach", help="print the job id and return at once (then: tensorkart jobs follow ID)")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
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
        contrast=contrast,
        saturation=saturation,
        hue=hue,
        grayscale=grayscale,
        channel_shuffle=channel_shuffle,
        early_stopping_patience=early_stopping_patience,
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
    require(url)
    job = call(url, "POST", "/v1/jobs", "see: tensorkart train --help", json=params)
    typer.echo(f"job {job['id']} queued on {trainer_url(url)} for {', '.join(job['datasets'])}", err=True)
    if detach:
        typer.echo(job["id"])
        return
    try:
        view = follow_job(url, job["id"], quiet)
    except KeyboardInterrupt:
        typer.echo(
            f"\nstopped following; job {job['id']} goes on (follow it again: tensorkart jobs follow {job['id']}; "
            f"cancel it: tensorkart jobs cancel {job['id']})",
            err=True,
        )
        raise typer.Exit(130) from None
    finish(view)
