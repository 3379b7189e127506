"""`tensorkart datasets ...`: list / inspect / validate / flip / trim / import / sheet / delete / restore /
movie / export (LeRobot v3, Rerun); `import` also takes a LeRobot v3 folder.

Data root: --data, default $TENSORKART_DATA or ./data. Tools that make a dataset write a
new one (never their input) and print its path last.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tensorkart_cli.errors import CliError
from tensorkart_core import datasets as ds

app = typer.Typer(
    help="Datasets in shared storage (samples/NAME: img_<n>.png + data.csv + session.json).", no_args_is_help=True
)

DataOption = Annotated[Path | None, typer.Option("--data", help="data root [default: $TENSORKART_DATA or ./data]")]


def root_of(data: Path | None) -> Path:
    from tensorkart_cli.settings import cli_settings

    return data if data is not None else cli_settings().data_root


def _name(name: str, hint: str = "NAME") -> str:
    try:
        return ds.validate_name(name)
    except ds.DatasetNameError as error:
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
    root = root_of(data)
    stats = [ds.describe(root, name) for name in ds.list_datasets(root)]
    if as_json:
        typer.echo(json.dumps([{k: v for k, v in s.items() if k != "session"} for s in stats]))
        return
    if not stats:
        typer.echo(f"no datasets under {root / 'samples'}", err=True)
        return
    width = max(len(s["name"]) for s in stats)
    typer.echo(f"{'NAME':<{width}}  {'FRAMES':>7}  {'DELETED':>7}  {'DURATION':>8}  {'SIZE':>9}  STEERING (left|right)")
    for s in stats:
        duration = f"{s['duration_s']:.1f}s" if s["duration_s"] is not None else "?"
        line = ds.sparkline(s["steering_histogram"]["counts"])
        size = s["resolution"] or "?"
        typer.echo(f"{s['name']:<{width}}  {s['frames']:>7}  {s['deleted']:>7}  {duration:>8}  {size:>9}  |{line}|")


@app.command("inspect")
def inspect(name: str, data: DataOption = None) -> None:
    """One dataset's statistics and session.json as JSON."""
    root = root_of(data)
    _name(name)
    if name not in ds.list_datasets(root):
        _fail(FileNotFoundError(f"dataset {name!r} not found under {root / 'samples'}"))
    typer.echo(json.dumps(ds.describe(root, name), indent=2, sort_keys=True))


@app.command("validate")
def validate(
    name: str,
    data: DataOption = None,
    no_images: Annotated[bool, typer.Option("--no-images", help="check data.csv only")] = False,
) -> None:
    """Check rows (format, ranges) and images (present, complete PNG); exit 0 only if valid."""
    root = root_of(data)
    _name(name)
    report = ds.validate_dataset(root, name, check_images=not no_images)
    for problem in report.problems:
        typer.echo(problem)
    if report.valid:
        typer.echo(f"{name}: valid ({report.rows} frames)")
        return
    typer.echo(f"{name}: INVALID ({_count(len(report.problems), 'problem')}, {report.rows} good rows)", err=True)
    raise typer.Exit(1)


def _derive(data: Path | None, name: str, out: str | None, tool: str, make) -> None:
    """Run a tool that writes a new dataset (`out`, default NAME-<tool>) from NAME; print its path."""
    root = root_of(data)
    target = _name(out or f"{name}-{tool}", "--out")
    try:
        make(root, _name(name), target, _progress(tool))
    except ds.DatasetToolError as error:
        _fail(error)
    typer.echo(str(root / "samples" / target))


@app.command("flip")
def flip(
    name: str,
    out: Annotated[str | None, typer.Option("--out", help="new dataset name [default: NAME-flip]")] = None,
    data: DataOption = None,
) -> None:
    """Mirror every image and negate x into a new dataset (like the workshop's flip-data.py)."""
    _derive(data, name, out, "flip", ds.flip_dataset)


@app.command("trim")
def trim(
    name: str,
    head: Annotated[int, typer.Option("--head", help="frames to drop at the start")] = 0,
    tail: Annotated[int, typer.Option("--tail", help="frames to drop at the end")] = 0,
    out: Annotated[str | None, typer.Option("--out", help="new dataset name [default: NAME-trim]")] = None,
    data: DataOption = None,
) -> None:
    """Drop the first/last N frames into a new dataset."""
    _derive(
        data,
        name,
        out,
        "trim",
        lambda root, source, target, progress: ds.trim_dataset(root, source, target, head, tail, progress),
    )


@app.command("import")
def import_(
    folder: Path,
    name: Annotated[str | None, typer.Option("--name", help="dataset name [default: the folder's name]")] = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="leave bad rows out instead of refusing")] = False,
    data: DataOption = None,
) -> None:
    """Add a folder to samples/: TensorKart layout (validated, csv paths rewritten) or a LeRobot v3
    dataset (meta/info.json; each episode becomes a dataset NAME or NAME-epN)."""
    root = root_of(data)
    target = _name(name or Path(folder).resolve().name, "--name")
    if (Path(folder) / "meta" / "info.json").is_file():
        from tensorkart_core.datasets.export import ExportError
        from tensorkart_core.datasets.export.lerobot import import_lerobot

        try:
            names = import_lerobot(root, folder, target, _progress("import"))
        except (ExportError, ds.DatasetToolError) as error:
            _fail(error)
        for imported in names:
            typer.echo(str(root / "samples" / imported))
        return
    try:
        count, problems = ds.import_folder(root, folder, target, skip_bad, _progress("import"))
    except ds.DatasetToolError as error:
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
    root = root_of(data)
    path = out or Path(f"{name}-sheet.png")
    try:
        png = ds.contact_sheet(root, _name(name), count, columns, thumb_width=200)
    except (ds.DatasetNotFound, ValueError) as error:
        _fail(error)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.write_bytes(path, png)
    typer.echo(str(path))


RangeFrom = Annotated[int, typer.Option("--from", help="first frame index (as in the timeline)")]
RangeTo = Annotated[int | None, typer.Option("--to", help="last frame index, inclusive [default: --from]")]


def _curate(action, name: str, start: int, end: int | None, data: Path | None) -> None:
    root = root_of(data)
    try:
        result = action(root, _name(name), start, start if end is None else end)
    except (ds.DatasetNotFound, ds.CurationError) as error:
        _fail(error)
    typer.echo(json.dumps(result.to_dict()))


@app.command("delete")
def delete(name: str, start: RangeFrom, end: RangeTo = None, data: DataOption = None) -> None:
    """Soft-delete frames --from..--to: their rows move to deleted.csv, so training leaves them out."""
    _curate(ds.delete_range, name, start, end, data)


@app.command("restore")
def restore(name: str, start: RangeFrom, end: RangeTo = None, data: DataOption = None) -> None:
    """Bring soft-deleted frames --from..--to back into data.csv, in their original order."""
    _curate(ds.restore_range, name, start, end, data)


@app.command("movie")
def movie(
    name: str,
    out: Annotated[Path | None, typer.Option("--out", help="MP4 file [default: NAME.mp4]")] = None,
    fps: Annotated[int | None, typer.Option("--fps", min=1, max=240, help="[default: the dataset's rate]")] = None,
    data: DataOption = None,
) -> None:
    """An MP4 of the dataset's kept frames with the steering drawn on each (needs the `export` extra)."""
    from tensorkart_core.datasets.export import ExportError
    from tensorkart_core.datasets.export.movie import movie as write_movie

    root = root_of(data)
    path = out or Path(f"{name}.mp4")
    try:
        count = write_movie(root, _name(name), path, fps, _progress("movie"))
    except (ExportError, ds.DatasetNotFound, ds.CurationError) as error:
        _fail(error)
    typer.echo(f"{count} frames", err=True)
    typer.echo(str(path))


@app.command("export")
def export(
    names: Annotated[list[str], typer.Argument(help="datasets (names or globs)")],
    out: Annotated[Path, typer.Option("--out", help="output folder (LeRobot) or .rrd file / folder (Rerun)")],
    fmt: Annotated[str, typer.Option("--format", help="lerobot | rerun")] = "lerobot",
    fps: Annotated[int | None, typer.Option("--fps", min=1, max=240, help="LeRobot: resample to this rate")] = None,
    data: DataOption = None,
) -> None:
    """Export datasets to the LeRobot v3 layout or a Rerun recording (needs the `export` extra)."""
    from tensorkart_core.datasets.export import ExportError

    if fmt not in ("lerobot", "rerun"):
        raise CliError(f"unknown --format {fmt!r}", "use --format lerobot or --format rerun", status=2)
    root = root_of(data)
    try:
        resolved = ds.resolve_names(root, names)
        if fmt == "lerobot":
            from tensorkart_core.datasets.export.lerobot import export_lerobot

            info = export_lerobot(root, resolved, out, fps, _progress("export"))
            typer.echo(
                f"{info['total_episodes']} episodes, {info['total_frames']} frames at {info['fps']} fps", err=True
            )
            typer.echo(str(out))
        else:
            from tensorkart_core.datasets.export.rerun_rrd import export_rerun

            target = out / f"{'+'.join(resolved)[:100]}.rrd" if out.suffix != ".rrd" else out
            typer.echo(str(export_rerun(root, resolved, target, _progress("export"))))
    except (ExportError, ds.DatasetNotFound, ds.DatasetNameError, ds.CurationError) as error:
        _fail(error)
