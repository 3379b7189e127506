"""`tensorkart models ...` (being built in issue #6)."""

from __future__ import annotations

import typer

app = typer.Typer(help="models (issue #6)", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """Not available yet (issue #6)."""
    typer.echo("tensorkart models is not available yet (issue #6)", err=True)
    raise typer.Exit(2)
