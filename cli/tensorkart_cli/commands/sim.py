"""`tensorkart sim` (being built in issue #4)."""

from __future__ import annotations

import typer


def sim() -> None:
    """Not available yet (issue #4)."""
    typer.echo("tensorkart sim is not available yet (issue #4)", err=True)
    raise typer.Exit(2)
