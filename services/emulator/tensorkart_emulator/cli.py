"""The emulator's command line, one typer app for `python -m tensorkart_emulator` (the n64 image's
command) and `tensorkart emulator` (mounted by the CLI): `run` serves the emulator's frame feed
(the practice track's Simulator/StreamFrames) until SIGTERM; `save-state` makes a savestate while
a human plays (Enter saves) or at a given frame; `check` says whether a ROM and the plugins are
usable without running anything; `check-plugins` attaches the configured plugins to the core with
a blank cartridge (the image's self-check). Options override the EMULATOR_* environment variables
(settings.py, docs/emulator.md). Exit status: 0 after a run, 2 on bad settings or a bad ROM /
plugin / savestate (one line naming it), 1 if the emulator failed.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from tensorkart_core.cli import command_app
from tensorkart_core.logs import setup_logging
from tensorkart_core.settings import load_settings
from tensorkart_emulator.errors import EmulatorError, ErrorKind
from tensorkart_emulator.settings import EmulatorSettings

USER_ERRORS = {
    ErrorKind.NO_ROM,
    ErrorKind.UNREADABLE_ROM,
    ErrorKind.NOT_N64_ROM,
    ErrorKind.MISSING_PLUGIN,
    ErrorKind.BAD_PLUGIN,
    ErrorKind.BAD_SAVESTATE,
    ErrorKind.BAD_GAME_TABLE,
}

app = command_app("The real game in mupen64plus: run the frontend, make savestates.", "emulator")

Rom = Annotated[Path | None, typer.Option("--rom", help="the N64 ROM (.z64/.v64/.n64) [default: EMULATOR_ROM]")]
Video = Annotated[Path | None, typer.Option("--video", help="video plugin (full path) [default: Debian's rice]")]
Input = Annotated[Path | None, typer.Option("--input", help="input plugin (full path): tensorkart-input to drive")]
ConfigDir = Annotated[Path | None, typer.Option("--config-dir", help="mupen64plus config directory")]


# A command's option names that differ from the EmulatorSettings field they set.
RENAMED = {"video": "video_plugin", "controller": "controller_addr", "start": "state"}


def settings_with(**options: Any) -> EmulatorSettings:
    """EMULATOR_* settings with a command's options on top: those given (not None) that are
    settings (RENAMED maps option names to fields; --free-run turns lock-step off); sets up logging."""
    setup_logging("emulator")
    settings = load_settings(EmulatorSettings)
    if options.pop("free_run", False):
        options["lockstep"] = False
    renamed = {RENAMED.get(key, key): value for key, value in options.items() if value is not None}
    fields = EmulatorSettings.model_fields
    return settings.model_copy(update={key: value for key, value in renamed.items() if key in fields})


def fail(error: EmulatorError, fix: str) -> NoReturn:
    """One line on stderr naming the problem; exit 2 for a user's error, 1 for the emulator's."""
    print(f"error: tensorkart emulator: {' '.join(str(error).split())} — {fix}", file=sys.stderr)
    raise typer.Exit(2 if error.kind in USER_ERRORS else 1)


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


@app.command("run")
def run(
    rom: Rom = None,
    state: Annotated[Path | None, typer.Option("--state", help="savestate to start from")] = None,
    game: Annotated[str | None, typer.Option("--game", help="RAM table: mk64, inputcpu or a JSON file")] = None,
    port: Annotated[int | None, typer.Option("--port", help="frame feed gRPC port [default: 50056; 0 = any]")] = None,
    controller: Annotated[str | None, typer.Option("--controller", help="controller host:port")] = None,
    free_run: Annotated[bool, typer.Option("--free-run", help="real time instead of lock-step")] = False,
    answer_delay: Annotated[int | None, typer.Option("--answer-delay", help="k: frame N's answer drives N+k")] = None,
    max_frames: Annotated[int | None, typer.Option("--max-frames", help="stop after N frames")] = None,
    video: Video = None,
    input_plugin: Input = None,
    config_dir: ConfigDir = None,
) -> None:
    """Serve the emulator's frame feed until Ctrl-C / SIGTERM (or --max-frames); prints a JSON report."""
    settings = settings_with(**locals())
    raise typer.Exit(run_service(settings))


@app.command("save-state")
def save_state(
    out: Annotated[Path, typer.Option("--out", help="where to write the savestate")],
    rom: Rom = None,
    at_frame: Annotated[int | None, typer.Option("--at-frame", help="save at this frame instead of on Enter")] = None,
    start: Annotated[Path | None, typer.Option("--from-state", help="start from this savestate")] = None,
    video: Video = None,
    input_plugin: Input = None,
    config_dir: ConfigDir = None,
) -> None:
    """Play (in a window, or under Xvfb) and save the state on Enter / SIGUSR1 / --at-frame; prints its path."""
    settings = settings_with(**locals())
    from tensorkart_emulator.capture_state import save_state_while_playing
    from tensorkart_emulator.service import frontend_options

    try:
        path, index = save_state_while_playing(frontend_options(settings), out, at_frame, settings.state)
    except EmulatorError as error:
        fail(error, "check the ROM and plugins: tensorkart emulator check")
    typer.echo(json.dumps({"savestate": str(path), "frame": index}))


@app.command("check")
def check(rom: Rom = None, video: Video = None, input_plugin: Input = None) -> None:
    """Check the ROM (N64 header) and the plugins (type, API) without running anything; exit 2 naming a bad one."""
    settings = settings_with(**locals())
    from tensorkart_emulator.plugins import load_plugin
    from tensorkart_emulator.rom import read_rom
    from tensorkart_emulator.service import frontend_options

    try:
        image = read_rom(settings.rom)
        options = frontend_options(settings)
        plugins = {kind.name.lower(): load_plugin(kind, path) for kind, path in options.plugins.items() if path}
    except EmulatorError as error:
        fail(error, "see docs/emulator.md (ROM, video and input plugins)")
    described = {kind: {"name": p.name, "api": hex(p.api_version), "path": str(p.path)} for kind, p in plugins.items()}
    typer.echo(json.dumps({"rom": str(image.path), "name": image.name, "byte_order": image.byte_order, **described}))


@app.command("check-plugins")
def check_plugins(video: Video = None, input_plugin: Input = None) -> None:
    """Attach the configured plugins to the core with a blank cartridge (no ROM needed); prints a JSON line."""
    settings = settings_with(**locals())
    from tensorkart_emulator.plugin_check import check_plugins as attach
    from tensorkart_emulator.service import frontend_options

    _print_json(lambda: attach(frontend_options(settings)))


def _print_json(work: Callable[[], dict]) -> None:
    try:
        result = work()
    except EmulatorError as error:
        fail(error, "see docs/emulator.md (video and input plugins)")
    print(json.dumps(result), flush=True)
