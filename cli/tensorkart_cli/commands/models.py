"""`tensorkart models list|show|promote|rollback|import`.

promote/rollback go through the trainer's REST API when one answers at TRAINER_URL,
else straight to the registry (Redis + shared storage). `import` registers a TensorKart
`model_weights.h5` (Keras 2 weights of PilotNet) and prints the new version last.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from tensorkart_cli.commands._trainer_client import TrainerError, answers, check, client

app = typer.Typer(help="list / show / promote / roll back / import models", no_args_is_help=True)
UrlOption = Annotated[str | None, typer.Option(help="trainer URL (default $TRAINER_URL or http://127.0.0.1:8000)")]


def _data_root() -> Path:
    return Path(os.environ.get("TENSORKART_DATA", "./data"))


def _registry():
    from tensorkart_core.registry import ModelRegistry
    from tensorkart_core.settings import DEFAULT_REDIS_URL

    return ModelRegistry.from_url(_data_root(), os.environ.get("REDIS_URL", DEFAULT_REDIS_URL))


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


@app.command("list")
def list_(url: UrlOption = None) -> None:
    """All model versions, newest first; the active one is marked with *."""
    from tensorkart_core.registry import list_versions, read_metadata

    active = None
    try:
        active = _registry().active()
    except Exception as error:
        typer.echo(f"(active version unknown: {error})", err=True)
    for version in reversed(list_versions(_data_root())):
        meta: dict[str, Any] = read_metadata(_data_root(), version)
        metrics = meta.get("metrics") or {}
        loss = metrics.get("val_loss", metrics.get("loss"))
        tracks = ((meta.get("evaluation") or {}).get("tracks")) or {}
        autonomy = ", ".join(f"{t} {r['autonomy']:.2f}" for t, r in tracks.items() if "autonomy" in r)
        typer.echo(
            f"{'*' if version == active else ' '} {version}  outputs {','.join(meta.get('outputs', []))}"
            f"  loss {loss if loss is None else round(loss, 5)}"
            + (f"  autonomy {autonomy}" if autonomy else "")
            + (f"  from {meta['source'].get('file')}" if meta.get("source") else "")
        )


@app.command("show")
def show(version: str) -> None:
    """Print one version's model.json."""
    from tensorkart_core.registry import RegistryError, read_metadata

    try:
        typer.echo(json.dumps(read_metadata(_data_root(), version), indent=2, sort_keys=True))
    except RegistryError as error:
        _fail(str(error))


def _through_api_or_registry(path: str, direct) -> dict[str, Any]:
    from tensorkart_core.registry import RegistryError

    try:
        if answers(os.environ.get("TRAINER_URL")):
            with client() as http:
                return check(http.post(path))
        return direct()
    except (TrainerError, RegistryError) as error:
        _fail(str(error))
    raise AssertionError("unreachable")


@app.command("promote")
def promote(version: str) -> None:
    """Make VERSION the active model (inference servers hot-swap to it)."""
    event = _through_api_or_registry(f"/v1/models/{version}/promote", lambda: _registry().promote(version))
    typer.echo(f"active model: {event['version']} (was {event.get('previous')})")


@app.command("rollback")
def rollback() -> None:
    """Re-activate the previously active model."""
    event = _through_api_or_registry("/v1/models/rollback", lambda: _registry().rollback())
    typer.echo(f"active model: {event['version']} (rolled back from {event.get('previous')})")


@app.command("import")
def import_(
    weights: Annotated[Path, typer.Argument(help="TensorKart model_weights.h5 (Keras 2 HDF5 weights of PilotNet)")],
    version: Annotated[str | None, typer.Option(help="version name (default: a fresh one)")] = None,
    promote_it: Annotated[bool, typer.Option("--promote", help="promote it after import")] = False,
) -> None:
    """Register a workshop model_weights.h5 (served like play.py: resize to 200x66, 0..1); prints the version last."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tensorkart_core.registry import RegistryError
    from tensorkart_trainer.legacy import LegacyWeightsError, import_weights

    try:
        new = import_weights(weights, _data_root(), version)
    except (LegacyWeightsError, RegistryError, FileExistsError) as error:
        _fail(str(error))
    typer.echo(f"imported {weights} as {new}", err=True)
    if promote_it:
        _registry().promote(new)
        typer.echo(f"promoted {new}", err=True)
    typer.echo(new)
