"""`tensorkart bench` (being built in issue #3)."""

from __future__ import annotations

import typer


def bench() -> None:
    """Not available yet (issue #3)."""
    typer.echo("tensorkart bench is not available yet (issue #3)", err=True)
    raise typer.Exit(2)
