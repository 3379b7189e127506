"""`tensorkart sim`: run the practice track (the simulator runs in this process).

The simulator's own `run` command (tensorkart_simulator.cli: the same options as
`python -m tensorkart_simulator run`), with the CLI's checks first (one error line naming the
option) and a one-line summary on stderr; `--report` prints the contract JSON
({"track", "driver"|"model", "laps", "sim_seconds", "interventions", "autonomy", "progress", "fps"}) last.
"""

from __future__ import annotations

import typer

from tensorkart_cli.errors import CliError
from tensorkart_simulator.cli import run_command
from tensorkart_simulator.options import SimOptions


def checks(options: SimOptions) -> None:
    """The CLI's checks before anything starts (CliError names the option and a fix)."""
    from tensorkart_cli import preflight
    from tensorkart_core.logs import setup_logging

    preflight.track(options.track)
    if options.laps < 0:
        raise CliError(f"--laps must be >= 0, got {options.laps}", "e.g. --laps 3 (0: no lap limit)", status=2)
    preflight.positive(options.max_seconds, "--max-seconds", "60")
    if not options.headless:
        preflight.display("the game window (--window)")
    setup_logging("simulator")


def summary(report: dict) -> None:
    from tensorkart_cli.summary import summary_line

    typer.echo(summary_line(report), err=True)


sim = run_command(before=checks, on_report=summary)
