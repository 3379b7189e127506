"""Entry point: `python -m tensorkart_emulator run` serves the emulator's frame feed (settings from
EMULATOR_* variables, see settings.py); `save-state` makes a savestate; `check-plugins` attaches the
configured plugins to the core without a game. Exit status: 0 after a run,
2 on bad settings or a bad ROM / plugin / savestate (one line naming it), 1 if the emulator failed."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from tensorkart_core.logs import setup_logging
from tensorkart_core.settings import load_settings
from tensorkart_emulator.errors import EmulatorError, ErrorKind
from tensorkart_emulator.settings import EmulatorSettings

log = logging.getLogger("tensorkart_emulator")
USER_ERRORS = {
    ErrorKind.NO_ROM,
    ErrorKind.UNREADABLE_ROM,
    ErrorKind.NOT_N64_ROM,
    ErrorKind.MISSING_PLUGIN,
    ErrorKind.BAD_PLUGIN,
    ErrorKind.BAD_SAVESTATE,
    ErrorKind.BAD_GAME_TABLE,
}


def run_service(settings: EmulatorSettings) -> int:
    """Serve the feed until SIGTERM/SIGINT or max_frames; prints the run's report as one JSON line."""
    from tensorkart_emulator.service import EmulatorRun

    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda _s, _f: stop.set())
    try:
        report = EmulatorRun(settings, stop).execute()
    except EmulatorError as error:
        print(f"tensorkart emulator: {error}", file=sys.stderr)
        return 2 if error.kind in USER_ERRORS else 1
    except ConnectionError as error:
        print(f"tensorkart emulator: {error}", file=sys.stderr)
        return 1
    print(json.dumps(report), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tensorkart_emulator", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="serve the frame feed (EMULATOR_* settings)")
    save = commands.add_parser("save-state", help="run the ROM and save a state")
    save.add_argument("--out", type=Path, required=True)
    save.add_argument("--at-frame", type=int, default=None)
    commands.add_parser("check-plugins", help="attach the configured plugins to the core (no ROM needed)")
    args = parser.parse_args(argv)
    setup_logging("emulator")
    settings = load_settings(EmulatorSettings)
    if args.command == "run":
        return run_service(settings)
    from tensorkart_emulator.service import frontend_options

    try:
        if args.command == "check-plugins":
            from tensorkart_emulator.plugin_check import check_plugins

            result = check_plugins(frontend_options(settings))
        else:
            from tensorkart_emulator.capture_state import save_state_while_playing

            path, index = save_state_while_playing(frontend_options(settings), args.out, args.at_frame, settings.state)
            result = {"savestate": str(path), "frame": index}
    except EmulatorError as error:
        print(f"tensorkart emulator: {error}", file=sys.stderr)
        return 2 if error.kind in USER_ERRORS else 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
