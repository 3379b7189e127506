"""One error format for every tensorkart command: `error: <what> — <how to fix>` on stderr, one line.

Commands raise CliError (or call `fail`); `tensorkart_cli.main.main` prints it and exits with
its status, and turns usage errors and anything unexpected into the same one line — never a
traceback, never a Python repr.
"""

from __future__ import annotations

from typing import NoReturn

import typer


class CliError(Exception):
    """What went wrong, how to fix it, and the exit status (1: failed, 2: bad input)."""

    def __init__(self, what: str, fix: str = "", status: int = 1) -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix
        self.status = status

    def line(self) -> str:
        return error_line(self.what, self.fix)


def error_line(what: str, fix: str = "") -> str:
    """`error: what — fix`, flattened to one line."""
    what = " ".join(str(what).split())
    return f"error: {what} — {' '.join(fix.split())}" if fix else f"error: {what}"


def fail(what: str, fix: str = "", status: int = 1) -> NoReturn:
    raise CliError(what, fix, status)


def report(error: CliError) -> None:
    typer.echo(error.line(), err=True)
