"""`tensorkart predict` (being built in issue #7)."""

from __future__ import annotations

import typer


def predict() -> None:
    """Not available yet (issue #7)."""
    typer.echo("tensorkart predict is not available yet (issue #7)", err=True)
    raise typer.Exit(2)
