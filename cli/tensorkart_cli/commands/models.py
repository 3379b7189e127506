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

from tensorkart_cli.commands._trainer_client import UrlOption, answers, call
from tensorkart_cli.errors import CliError
from tensorkart_cli.settings import cli_settings

app = typer.Typer(help="list / show / promote / roll back / import models", no_args_is_help=True)
LIST_FIX = "see the versions: tensorkart models list"


def _data_root() -> Path:
    return cli_settings().data_root


def _registry():
    from tensorkart_core.registry import ModelRegistry

    settings = cli_settings()
    return ModelRegistry.from_url(settings.data_root, settings.redis_url)


@app.command("list")
def list_(url: UrlOption = None) -> None:
    """All model versions, newest first; the active one is marked with *."""
    from tensorkart_core.registry import list_versions, read_metadata

    versions = list_versions(_data_root())
    if not versions:
        typer.echo(
            f"no models yet in {_data_root() / 'models'} — train one: tensorkart train --dataset NAME "
            "(or import one: tensorkart models import model_weights.h5)"
        )
        return
    active = None
    try:
        active = _registry().active()
    except Exception as error:
        typer.echo(f"(active version unknown: Redis did not answer: {type(error).__name__})", err=True)
    for version in reversed(versions):
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
def show(version: str, url: UrlOption = None) -> None:
    """Print one version's model.json (through the trainer API when one answers, else from shared storage)."""
    from tensorkart_core.registry import RegistryError, read_metadata

    if answers(url):
        typer.echo(json.dumps(call(url, "GET", f"/v1/models/{version}", LIST_FIX), indent=2, sort_keys=True))
        return
    try:
        typer.echo(json.dumps(read_metadata(_data_root(), version), indent=2, sort_keys=True))
    except RegistryError as error:
        raise CliError(str(error), LIST_FIX) from None


def _through_api_or_registry(url: str | None, path: str, direct) -> dict[str, Any]:
    from tensorkart_core.registry import RegistryError

    if answers(url):
        return call(url, "POST", path, LIST_FIX)
    try:
        return direct()
    except RegistryError as error:
        fix = "promote a version first: tensorkart models promote VERSION" if "roll back" in str(error) else LIST_FIX
        raise CliError(str(error), fix) from None


def _was(previous: str | None) -> str:
    return f"was {previous}" if previous else "no model was active before"


@app.command("promote")
def promote(version: str, url: UrlOption = None) -> None:
    """Make VERSION the active model (inference servers hot-swap to it)."""
    event = _through_api_or_registry(url, f"/v1/models/{version}/promote", lambda: _registry().promote(version))
    typer.echo(f"active model: {event['version']} ({_was(event.get('previous'))})")


@app.command("rollback")
def rollback(url: UrlOption = None) -> None:
    """Re-activate the previously active model."""
    event = _through_api_or_registry(url, "/v1/models/rollback", lambda: _registry().rollback())
    typer.echo(f"active model: {event['version']} (rolled back from {event.get('previous')})")


@app.command("import")
def import_(
    weights: Annotated[Path, typer.Argument(help="TensorKart model_weights.h5 (Keras 2 HDF5 weights of PilotNet)")],
    version: Annotated[str | None, typer.Option(help="version name (default: a fresh one)")] = None,
    promote_it: Annotated[bool, typer.Option("--promote", help="promote it after import")] = False,
    url: UrlOption = None,
) -> None:
    """Register a workshop model_weights.h5 (served like play.py: resize to 200x66, 0..1); prints the version last."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tensorkart_core.registry import RegistryError
    from tensorkart_trainer.legacy import LegacyWeightsError, import_weights

    if not weights.is_file():
        raise CliError(f"{weights}: no such file", "give the path of a TensorKart model_weights.h5", status=2)
    try:
        new = import_weights(weights, _data_root(), version)
    except (LegacyWeightsError, RegistryError, FileExistsError) as error:
        raise CliError(str(error), "import takes TensorKart's Keras 2 model_weights.h5 (PilotNet weights)") from None
    typer.echo(f"imported {weights} as {new}", err=True)
    if promote_it:
        _through_api_or_registry(url, f"/v1/models/{new}/promote", lambda: _registry().promote(new))
        typer.echo(f"promoted {new}", err=True)
    typer.echo(new)
