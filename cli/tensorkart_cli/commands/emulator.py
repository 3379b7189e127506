"""`tensorkart emulator run|save-state|check`: the real game in mupen64plus through our frontend.

`run` serves the emulator's frame feed (the practice track's Simulator/StreamFrames) in this process,
so `record|play|eval --source emulator` read it; `save-state` makes a savestate while a human plays
(Enter saves) or at a given frame; `check` opens nothing but says whether a ROM and the plugins are
usable. Options override the EMULATOR_* environment variables (see docs/emulator.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from tensorkart_cli.errors import CliError

app = typer.Typer(help="The real game in mupen64plus: run the frontend, make savestates.", no_args_is_help=True)

Rom = Annotated[Path | None, typer.Option("--rom", help="the N64 ROM (.z64/.v64/.n64) [default: EMULATOR_ROM]")]
Video = Annotated[Path | None, typer.Option("--video", help="video plugin (full path) [default: Debian's rice]")]
Input = Annotated[Path | None, typer.Option("--input", help="input plugin (full path): tensorkart-input to drive")]
ConfigDir = Annotated[Path | None, typer.Option("--config-dir", help="mupen64plus config directory")]


def _settings(**overrides: Any):
    try:
        from tensorkart_emulator.settings import EmulatorSettings
    except ImportError as error:  # the emulator package is a separate install
        raise CliError(
            f"tensorkart emulator needs the tensorkart-emulator package ({error})", "run: make setup", 2
        ) from None
    from tensorkart_core.settings import load_settings

    settings = load_settings(EmulatorSettings)
    renamed = {"video": "video_plugin", "input": "input_plugin"}
    update = {renamed.get(key, key): value for key, value in overrides.items() if value is not None}
    return settings.model_copy(update=update)


@app.command("run")
def run(
    rom: Rom = None,
    state: Annotated[Path | None, typer.Option("--state", help="savestate to start from")] = None,
    game: Annotated[str | None, typer.Option("--game", help="RAM table: mk64, inputcpu or a JSON file")] = None,
    port: Annotated[int | None, typer.Option("--port", help="frame feed gRPC port [default: 50056]")] = None,
    controller: Annotated[str | None, typer.Option("--controller", help="controller host:port")] = None,
    free_run: Annotated[bool, typer.Option("--free-run", help="real time instead of lock-step")] = False,
    answer_delay: Annotated[int | None, typer.Option("--answer-delay", help="k: frame N's answer drives N+k")] = None,
    max_frames: Annotated[int | None, typer.Option("--max-frames", help="stop after N frames")] = None,
    video: Video = None,
    input_plugin: Input = None,
    config_dir: ConfigDir = None,
) -> None:
    """Serve the emulator's frame feed until Ctrl-C / SIGTERM (or --max-frames); prints a JSON report."""
    from tensorkart_core.logs import setup_logging

    settings = _settings(
        rom=rom,
        state=state,
        game=game,
        port=port,
        controller_addr=controller,
        lockstep=False if free_run else None,
        answer_delay=answer_delay,
        max_frames=max_frames,
        video=video,
        input=input_plugin,
        config_dir=config_dir,
    )
    setup_logging("emulator")
    from tensorkart_emulator.__main__ import run_service

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
    from tensorkart_core.logs import setup_logging

    settings = _settings(rom=rom, state=start, video=video, input=input_plugin, config_dir=config_dir)
    setup_logging("emulator")
    from tensorkart_emulator.capture_state import save_state_while_playing
    from tensorkart_emulator.errors import EmulatorError
    from tensorkart_emulator.service import frontend_options

    try:
        path, index = save_state_while_playing(frontend_options(settings), out, at_frame, settings.state)
    except EmulatorError as error:
        raise CliError(str(error), "check the ROM and plugins: tensorkart emulator check", status=2) from None
    typer.echo(json.dumps({"savestate": str(path), "frame": index}))


@app.command("check")
def check(rom: Rom = None, video: Video = None, input_plugin: Input = None) -> None:
    """Check the ROM (N64 header) and the plugins (type, API) without running anything; exit 2 naming a bad one."""
    settings = _settings(rom=rom, video=video, input=input_plugin)
    from tensorkart_emulator.errors import EmulatorError
    from tensorkart_emulator.plugins import load_plugin
    from tensorkart_emulator.rom import read_rom
    from tensorkart_emulator.service import frontend_options

    try:
        image = read_rom(settings.rom)
        options = frontend_options(settings)
        plugins = {kind.name.lower(): load_plugin(kind, path) for kind, path in options.plugins.items() if path}
    except EmulatorError as error:
        raise CliError(str(error), "see docs/emulator.md (ROM, video and input plugins)", status=2) from None
    described = {kind: {"name": p.name, "api": hex(p.api_version), "path": str(p.path)} for kind, p in plugins.items()}
    typer.echo(json.dumps({"rom": str(image.path), "name": image.name, "byte_order": image.byte_order, **described}))


@app.command("pad")
def pad(
    controller: Annotated[str, typer.Option("--controller", envvar="CONTROLLER_ADDR")] = "127.0.0.1:50053",
    preset: Annotated[str, typer.Option("--pad", help="pad preset xbox|dualshock|n64 or JSON, + KEY=VALUE")] = "xbox",
    index: Annotated[int, typer.Option("--pad-index")] = 0,
    rate: Annotated[float, typer.Option("--rate", help="gamepad reads per second")] = 250.0,
) -> None:
    """Drive the emulator with a gamepad: its state goes to the controller (human steering) until Ctrl-C;
    tensorkart-input serves it to the game, and the frame feed labels each frame with it."""
    import signal
    import threading

    from tensorkart_capture.gamepad import Gamepad, GamepadError, MappingError, PadMapping
    from tensorkart_emulator.controller_link import ControllerLink

    try:
        gamepad = Gamepad(PadMapping.parse(preset), index)
        link = ControllerLink(controller)
    except (GamepadError, MappingError, ConnectionError) as error:
        raise CliError(str(error), "check the pad (--pad, --pad-index) and the controller (--controller)") from None
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _s, _f: stop.set())
    typer.echo(f"{gamepad.name} -> controller {controller}; Ctrl-C stops", err=True)
    sent = 0
    try:
        while not stop.wait(1.0 / rate):
            gamepad.poll()
            sent += 1
            link.set(gamepad.read(), sent)
    finally:
        gamepad.close()
        link.close()
    typer.echo(json.dumps({"pad": gamepad.name, "sent": sent}))


def start_emulator_feed(stack, rom: Path, state: Path | None, game: str, laps: int, cap: float, model: str):
    """Start the emulator frontend in `stack` as its feed child (named "simulator", the role it plays there),
    driven through the stack's controller; returns (feed address, child) like PrivateStack.start_simulator."""
    from tensorkart_core.launcher import ServiceSpec, python_module

    env = {
        "EMULATOR_ROM": str(rom),
        "EMULATOR_GAME": game,
        "EMULATOR_HOST": "127.0.0.1",
        "EMULATOR_PORT": "0",
        "EMULATOR_METRICS_PORT": "0",
        "EMULATOR_CONTROLLER_ADDR": stack.controller_addr,
        "EMULATOR_INPUT_BOT_PORT": stack.input_bot_url.rsplit(":", 1)[1],
        "EMULATOR_LAPS": str(laps),
        "EMULATOR_MAX_SECONDS": str(cap),
        "EMULATOR_LABEL_MODEL": model,
        **({"EMULATOR_STATE": str(state)} if state else {}),
    }
    child = stack.launcher.start(ServiceSpec("simulator", python_module("tensorkart_emulator", "run"), env, ("grpc",)))
    return stack.feed_address(child), child
