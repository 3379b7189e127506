"""`tensorkart datasets ...`: list / inspect / validate / flip / trim / import / sheet.

Data root: --data, default $TENSORKART_DATA or ./data. Tools that make a dataset write a
new one (never their input) and print its path last.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tensorkart_cli.errors import CliError
from tensorkart_core.dataset import DatasetNameError, list_datasets, validate_dataset, validate_name

app = typer.Typer(
    help="Datasets in shared storage (samples/NAME: img_<n>.png + data.csv + session.json).", no_args_is_help=True
)

DataOption = Annotated[Path | None, typer.Option("--data", help="data root [default: $TENSORKART_DATA or ./data]")]


def root_of(data: Path | None) -> Path:
    from tensorkart_cli.settings import cli_settings

    return data if data is not None else cli_settings().data_root


def _name(name: str, hint: str = "NAME") -> str:
    try:
        return validate_name(name)
    except DatasetNameError as error:
        raise CliError(str(error), f"{hint} takes letters, digits, '.', '_' and '-' (up to 64)", status=2) from None


def _progress(label: str):
    def show(done: int, total: int) -> None:
        if done == total or done % 25 == 0:
            typer.echo(f"\r{label}: {done}/{total} frames", err=True, nl=done == total)

    return show


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _fail(error: Exception) -> None:
    """The error's first line in the one error format; its detail lines (e.g. the problems) above it."""
    first, *details = str(error).splitlines() or [type(error).__name__]
    for line in details:
        typer.echo(line, err=True)
    raise CliError(first)


@app.command("list")
def list_(data: DataOption = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every dataset: frames, duration, steering histogram (left .. right)."""
    from tensorkart_recorder.datasets import dataset_stats, sparkline

    root = root_of(data)
    stats = [dataset_stats(root, name) for name in list_datasets(root)]
    if as_json:
        typer.echo(json.dumps([s.to_dict() for s in stats]))
        return
    if not stats:
        typer.echo(f"no datasets under {root / 'samples'}", err=True)
        return
    width = max(len(s.name) for s in stats)
    typer.echo(f"{'NAME':<{width}}  {'FRAMES':>7}  {'DURATION':>8}  {'SIZE':>9}  STEERING (left|right)")
    for s in stats:
        duration = f"{s.duration_s:.1f}s" if s.duration_s is not None else "?"
        typer.echo(
            f"{s.name:<{width}}  {s.frames:>7}  {duration:>8}  {s.resolution or '?':>9}  |{sparkline(s.histogram)}|"
        )


@app.command("inspect")
def inspect(name: str, data: DataOption = None) -> None:
    """One dataset's statistics and session.json as JSON."""
    from tensorkart_recorder.datasets import dataset_stats

    root = root_of(data)
    _name(name)
    if name not in list_datasets(root):
        _fail(FileNotFoundError(f"dataset {name!r} not found under {root / 'samples'}"))
    stats = dataset_stats(root, name)
    typer.echo(json.dumps({**stats.to_dict(), "session": stats.session}, indent=2, sort_keys=True))


@app.command("validate")
def validate(
    name: str,
    data: DataOption = None,
    no_images: Annotated[bool, typer.Option("--no-images", help="check data.csv only")] = False,
) -> None:
    """Check rows (format, ranges) and images (present, complete PNG); exit 0 only if valid."""
    root = root_of(data)
    _name(name)
    report = validate_dataset(root, name, check_images=not no_images)
    for problem in report.problems:
        typer.echo(problem)
    if report.valid:
        typer.echo(f"{name}: valid ({report.rows} frames)")
        return
    typer.echo(f"{name}: INVALID ({_count(len(report.problems), 'problem')}, {report.rows} good rows)", err=True)
    raise typer.Exit(1)


@app.command("flip")
def flip(
    name: str,
    out: Annotated[str | None, typer.Option("--out", help="new dataset name [default: NAME-flip]")] = None,
    data: DataOption = None,
) -> None:
    """Mirror every image and negate x into a new dataset (like the workshop's flip-data.py)."""
    from tensorkart_recorder.datasets import DatasetToolError, flip_dataset

    root = root_of(data)
    target = _name(out or f"{name}-flip", "--out")
    try:
        flip_dataset(root, _name(name), target, _progress("flip"))
    except DatasetToolError as error:
        _fail(error)
    typer.echo(str(root / "samples" / target))


@app.command("trim")
def trim(
    name: str,
    head: Annotated[int, typer.Option("--head", help="frames to drop at the start")] = 0,
    tail: Annotated[int, typer.Option("--tail", help="frames to drop at the end")] = 0,
    out: Annotated[str | None, typer.Option("--out", help="new dataset name [default: NAME-trim]")] = None,
    data: DataOption = None,
) -> None:
    """Drop the first/last N frames into a new dataset."""
    from tensorkart_recorder.datasets import DatasetToolError, trim_dataset

    root = root_of(data)
    target = _name(out or f"{name}-trim", "--out")
    try:
        trim_dataset(root, _name(name), target, head, tail, _progress("trim"))
    except DatasetToolError as error:
        _fail(error)
    typer.echo(str(root / "samples" / target))


@app.command("import")
def import_(
    folder: Path,
    name: Annotated[str | None, typer.Option("--name", help="dataset name [default: the folder's name]")] = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="leave bad rows out instead of refusing")] = False,
    data: DataOption = None,
) -> None:
    """Validate a folder in TensorKart layout and add it to samples/ (csv paths rewritten)."""
    from tensorkart_recorder.datasets import DatasetToolError, import_dataset

    root = root_of(data)
    target = _name(name or Path(folder).resolve().name, "--name")
    try:
        count, problems = import_dataset(root, folder, target, skip_bad, _progress("import"))
    except DatasetToolError as error:
        _fail(error)
    for problem in problems:
        typer.echo(f"skipped: {problem}", err=True)
    typer.echo(f"imported {count} frames", err=True)
    typer.echo(str(root / "samples" / target))


@app.command("sheet")
def sheet(
    name: str,
    out: Annotated[Path | None, typer.Option("--out", help="PNG file [default: NAME-sheet.png]")] = None,
    count: Annotated[int, typer.Option("--count", help="frames on the sheet")] = 24,
    columns: Annotated[int, typer.Option("--columns")] = 6,
    data: DataOption = None,
) -> None:
    """A contact-sheet PNG: evenly spaced frames with their steering drawn on them."""
    from tensorkart_recorder.datasets import DatasetToolError, contact_sheet

    root = root_of(data)
    try:
        path = contact_sheet(root, _name(name), out or Path(f"{name}-sheet.png"), count, columns)
    except DatasetToolError as error:
        _fail(error)
    typer.echo(str(path))
