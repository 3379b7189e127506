"""The one CLI framework's app factory: every service package's command line is a typer app made
here (`python -m <package>` runs it, the `tensorkart` CLI mounts it), with the same conventions:
no shell-completion options, no rich tracebacks (errors are one line), help when run bare.
"""

from __future__ import annotations

import typer


def command_app(help_text: str, name: str | None = None, group: bool = True) -> typer.Typer:
    """A typer app for a service's command line; `group=False` for a single-command tool (run as
    `python -m module OPTIONS`, not `python -m module COMMAND OPTIONS`)."""
    app = typer.Typer(
        name=name,
        help=help_text,
        add_completion=False,
        pretty_exceptions_enable=False,
        no_args_is_help=group,
    )
    if group:
        # Without a callback, typer runs a lone command in place of the group; the sub-command
        # name (`run`, `record`) stays part of the command line, as the images and scripts use it.
        app.callback()(lambda: None)
    return app
