"""Entry point: `python -m tensorkart_simulator run [options]` plays the practice track.

With --feed-port the run also serves the tensorkart.v1.Simulator frame feed (health,
reflection, token auth and metrics from tensorkart_core.grpc_server). --report prints the
result as one JSON line, the last line on stdout. Exit status: 0 after a run, 2 on bad options
or a bad track file.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable

from tensorkart_core.logs import setup_logging
from tensorkart_simulator.options import SimOptions, add_arguments, from_namespace
from tensorkart_simulator.themes import ThemeError
from tensorkart_simulator.track import TrackError


def run_cli(options: SimOptions, on_report: Callable[[dict], None] | None = None) -> int:
    """Run with signal handling and the report line; shared with `tensorkart sim`.

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
            print_report(options, report)

        Run(options, stop=stop, on_finish=finished).execute()
    except (ValueError, TrackError, ThemeError) as error:
        print(f"tensorkart sim: {error}", file=sys.stderr)
        return 2
    return 0


def print_report(options: SimOptions, report: dict) -> None:
    if options.report:
        print(json.dumps(report), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tensorkart_simulator", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="play the practice track")
    add_arguments(run_parser)
    args = parser.parse_args(argv)
    setup_logging("simulator")
    return run_cli(from_namespace(args))


if __name__ == "__main__":
    sys.exit(main())
