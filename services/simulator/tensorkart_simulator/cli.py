"""The practice track's command line: one typer app for `python -m tensorkart_simulator run` and,
through `run_command`, `tensorkart sim` (the same options, with the CLI's checks and summary).

With --feed (or --feed-port P) the run also serves the tensorkart.v1.Simulator frame feed
(health, reflection, token auth and metrics from tensorkart_core.grpc_server); port 0 is any free
port, reported to TENSORKART_PORTS_FILE. --report prints the result as one JSON line, the last
line on stdout. Exit status: 0 after a run, 2 on bad options or a bad track file.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from typing import Annotated

import typer

from tensorkart_core.cli import command_app
from tensorkart_simulator.options import MAX_TRAFFIC, SimOptions
from tensorkart_simulator.themes import ThemeError
from tensorkart_simulator.track import TrackError

app = command_app("The practice track: a Mode-7 kart simulator standing in for mupen64plus + a ROM.", "simulator")


def run_cli(options: SimOptions, on_report: Callable[[dict], None] | None = None) -> int:
    """Run with signal handling and the report line; the exit status.

    `on_report(report)` runs when the run ends, before the JSON line (tensorkart sim prints its
    one-line summary there)."""
    from tensorkart_simulator.runner import Run

    stop = threading.Event()

    def handle(_signum: int, _frame: object) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)
    try:
        options.check()

        # The report goes out as soon as the run ends (before a window lingers on the last frame).
        def finished(report: dict) -> None:
            if on_report is not None:
                on_report(report)
            if options.report:
                print(json.dumps(report), flush=True)

        Run(options, stop=stop, on_finish=finished).execute()
    except (ValueError, TrackError, ThemeError) as error:
        print(f"tensorkart sim: {error}", file=sys.stderr)
        return 2
    return 0


OPTION_NAMES = set(SimOptions.__dataclass_fields__)


def run_command(
    before: Callable[[SimOptions], None] | None = None, on_report: Callable[[dict], None] | None = None
) -> Callable[..., None]:
    """The `run` command; `before(options)` runs first (checks), `on_report` as in run_cli."""

    def run(
        track: Annotated[str, typer.Option(help="built-in track (luigi, twists, heldout) or a track .json file")] = (
            "luigi"
        ),
        driver: Annotated[str, typer.Option(help="expert | controller | gamepad")] = "expert",
        laps: Annotated[int, typer.Option(help="stop after N laps (0: no lap limit)")] = 3,
        headless: Annotated[bool, typer.Option("--headless/--window", help="no window / show the game window")] = (
            False
        ),
        realtime: Annotated[
            bool | None,
            typer.Option(
                "--realtime/--lockstep", help="wall-clock 30 Hz (default with a window) / no pacing (default headless)"
            ),
        ] = None,
        seed: Annotated[int, typer.Option(help="seed of the expert's noise and manoeuvres")] = 0,
        noise: Annotated[float, typer.Option(help="expert steering noise (stick units)")] = 0.05,
        manoeuvres: Annotated[bool, typer.Option("--manoeuvres/--no-manoeuvres", help="expert drift-and-recover")] = (
            True
        ),
        input_bot: Annotated[str, typer.Option(help="input-bot endpoint for --driver controller")] = (
            "http://127.0.0.1:8082"
        ),
        poll_timeout: Annotated[float, typer.Option(help="seconds before an input-bot poll counts as neutral")] = 2.0,
        feed: Annotated[bool, typer.Option("--feed", help="serve the gRPC frame feed on --feed-port (0 = any)")] = (
            False
        ),
        feed_port: Annotated[int, typer.Option(help="frame feed port (0: off, or any with --feed)")] = 0,
        wait_for_subscriber: Annotated[
            bool, typer.Option("--wait-for-subscriber", help="start once a feed client is connected")
        ] = False,
        max_seconds: Annotated[float | None, typer.Option(help="stop after S simulated seconds")] = None,
        hud: Annotated[bool, typer.Option("--hud/--no-hud", help="show lap, time and speed")] = True,
        label_model: Annotated[str | None, typer.Option(help='report "model": VERSION instead of "driver"')] = None,
        report: Annotated[bool, typer.Option("--report", help="print the result as one JSON line at the end")] = False,
        linger: Annotated[float, typer.Option(help="window: keep the last frame up for S seconds")] = 0.0,
        theme: Annotated[
            str | None, typer.Option(help="raceway, beach, snow, desert, night or a theme .json file")
        ] = None,
        theme_jitter: Annotated[float, typer.Option(help="seeded lighting and colour jitter, 0..1")] = 0.0,
        traffic: Annotated[int, typer.Option(help=f"computer karts (0..{MAX_TRAFFIC})")] = 0,
        takeover: Annotated[str, typer.Option(help="none | expert: the expert's advice on the feed (DAgger)")] = (
            "none"
        ),
        takeover_budget: Annotated[
            float | None, typer.Option(help="--takeover expert: end the run after S seconds of takeovers")
        ] = None,
    ) -> None:
        """Run the practice track (Mode-7 kart simulator standing in for mupen64plus + a ROM)."""
        options = SimOptions(**{name: value for name, value in locals().items() if name in OPTION_NAMES})
        if before is not None:
            before(options)
        if on_report is None:
            from tensorkart_core.logs import setup_logging

            setup_logging("simulator")
        raise typer.Exit(run_cli(options, on_report))

    return run


app.command("run")(run_command())
