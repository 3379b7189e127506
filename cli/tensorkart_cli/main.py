"""`tensorkart` — the command-line entry point; each command lives in tensorkart_cli.commands.

`main()` runs the typer app and gives every failure the one error format of
tensorkart_cli.errors: usage errors, a command's CliError, and anything unexpected.
"""

from __future__ import annotations

import sys

import typer
import typer.core

# typer 0.29 vendors click: its exceptions and context are these, not the click package's
from typer._click import exceptions as click_errors
from typer._click.core import Context

from tensorkart_capture import relay_cli
from tensorkart_cli.commands import (
    bench,
    dagger,
    datasets,
    emulator,
    evaluate,
    jobs,
    models,
    play,
    predict,
    prepare,
    record,
    sim,
    train,
    up,
)
from tensorkart_cli.errors import CliError, error_line
from tensorkart_core import healthcheck


def _no_value_type_for_flags() -> None:
    """typer 0.29 labels every flag `<bool>` in help; a flag takes no value, so show no type for it."""
    original = typer.core.TyperOption.display_type_rich

    def display_type_rich(self: typer.core.TyperOption, ctx: Context) -> str | None:
        return None if self.is_flag else original(self, ctx)

    typer.core.TyperOption.display_type_rich = display_type_rich


_no_value_type_for_flags()


class ReportingGroup(typer.core.TyperGroup):
    """The top-level command group: a command's CliError becomes its one line and exit status here,
    so the app reports alike however it is invoked (console script, `python -m`, typer's test runner)."""

    def invoke(self, ctx: Context):
        try:
            return super().invoke(ctx)
        except CliError as error:
            typer.echo(error.line(), err=True)
            raise typer.Exit(error.status) from None


app = typer.Typer(
    cls=ReportingGroup,
    name="tensorkart",
    help="Self-driving Mario Kart 64 from screen pixels: record, train, play.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command("up")(up.up)
app.command("sim")(sim.sim)
app.command("record")(record.record)
app.add_typer(datasets.app, name="datasets")
app.command("train")(train.train)
app.add_typer(jobs.app, name="jobs")
app.command("prepare")(prepare.prepare)
app.add_typer(models.app, name="models")
app.command("play")(play.play)
app.command("eval")(evaluate.evaluate)
app.command("dagger")(dagger.dagger)
app.command("predict")(predict.predict)
app.command("bench")(bench.bench)
app.add_typer(emulator.app, name="emulator")
# The services' own command lines, mounted as they are (one CLI framework: typer).
app.command("relay")(relay_cli.relay_command)  # python -m tensorkart_capture.relay
app.command("health")(healthcheck.healthcheck)  # python -m tensorkart_core.healthcheck


def _usage_line(error: click_errors.UsageError) -> str:
    command = error.ctx.command_path if error.ctx is not None else "tensorkart"
    message = error.format_message()
    return error_line(message[:1].lower() + message[1:], f"see: {command} --help")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 failed, 2 bad input, 130 interrupted)."""
    try:
        result = app(args=argv, prog_name="tensorkart", standalone_mode=False)
    except CliError as error:
        typer.echo(error.line(), err=True)
        return error.status
    except click_errors.NoArgsIsHelpError as error:
        typer.echo(error.ctx.get_help(), err=True)
        return 2
    except click_errors.UsageError as error:
        typer.echo(_usage_line(error), err=True)
        return 2
    except click_errors.Exit as done:
        return done.exit_code
    except (click_errors.Abort, KeyboardInterrupt):
        typer.echo("\ninterrupted", err=True)
        return 130
    except click_errors.ClickException as error:
        typer.echo(error_line(error.format_message()), err=True)
        return error.exit_code
    except Exception as error:  # the last line of defence: one line, no traceback
        typer.echo(
            error_line(f"unexpected {type(error).__name__}: {error}", "please report it with the command you ran"),
            err=True,
        )
        return 1
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
