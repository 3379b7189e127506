"""`tensorkart record` (being built in issue #5)."""

from __future__ import annotations

import typer


def record() -> None:
    """Not available yet (issue #5)."""
    typer.echo("tensorkart record is not available yet (issue #5)", err=True)
    raise typer.Exit(2)
