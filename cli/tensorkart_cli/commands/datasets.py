"""`tensorkart datasets ...` (being built in issue #5)."""

from __future__ import annotations

import typer

app = typer.Typer(help="datasets (issue #5)", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """Not available yet (issue #5)."""
    typer.echo("tensorkart datasets is not available yet (issue #5)", err=True)
    raise typer.Exit(2)
