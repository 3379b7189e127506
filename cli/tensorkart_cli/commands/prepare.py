"""`tensorkart prepare`: TensorKart's `utils.py prepare samples/*` — X.npy and y.npy, with real pixels.

Takes dataset names (under $TENSORKART_DATA/samples) or session folders; frames go
through the shared pre-processing spec (default 200x66, or a model's spec with --model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tensorkart_cli.settings import cli_settings


def prepare(
    sessions: Annotated[list[str], typer.Argument(help="dataset names or session folders (samples/<name>)")],
    out: Annotated[Path, typer.Option(help="output folder for X.npy and y.npy")] = Path("data"),
    model: Annotated[str | None, typer.Option(help="use this model version's pre-processing spec")] = None,
    workers: Annotated[int | None, typer.Option(help="decode processes (default: CPU count)")] = None,
) -> None:
    """Prepare sessions into X.npy (N, 66, 200, 3 uint8) and y.npy (N, 5); prints the X.npy path last."""
    from rich.progress import Progress

    from tensorkart_core.dataset import CSV_NAME, dataset_dir
    from tensorkart_core.preprocess import DEFAULT_SPEC, PreprocessSpec
    from tensorkart_core.registry import RegistryError, read_metadata
    from tensorkart_trainer.prepare import prepare as run

    data_root = cli_settings().data_root
    spec = DEFAULT_SPEC
    if model:
        try:
            spec = PreprocessSpec.model_validate(read_metadata(data_root, model)["preprocess"])
        except RegistryError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(1) from None
    folders: list[Path] = []
    roots: set[Path | None] = set()
    for item in sessions:
        path = Path(item)
        if (path / CSV_NAME).is_file():
            folders.append(path)
            roots.add(None)
            continue
        try:
            folder = dataset_dir(data_root, item)
        except ValueError as error:
            typer.echo(f"{item}: {error}", err=True)
            raise typer.Exit(1) from None
        if not (folder / CSV_NAME).is_file():
            typer.echo(f"{item}: neither a session folder nor a dataset under {data_root}/samples", err=True)
            raise typer.Exit(1)
        folders.append(folder)
        roots.add(data_root)
    root = data_root if roots == {data_root} else None
    with Progress(transient=True) as progress:
        task = progress.add_task("preparing", total=None)
        result = run(
            folders,
            out,
            spec,
            data_root=root,
            workers=workers,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    for problem in result.skipped[:10]:
        typer.echo(f"skipped {problem}", err=True)
    typer.echo(
        f"prepared {result.frames} frames ({spec.width}x{spec.height}) -> {result.x_path}, {result.y_path}", err=True
    )
    typer.echo(str(result.x_path))
