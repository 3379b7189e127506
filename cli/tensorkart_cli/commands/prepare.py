"""`tensorkart prepare` (being built in issue #6)."""

from __future__ import annotations

import typer


def prepare() -> None:
    """Not available yet (issue #6)."""
    typer.echo("tensorkart prepare is not available yet (issue #6)", err=True)
    raise typer.Exit(2)
