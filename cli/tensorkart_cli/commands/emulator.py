"""`tensorkart emulator`: the emulator package's own command line (tensorkart_emulator.cli: run,
save-state, check, check-plugins), plus `pad` (a gamepad driving the emulator through the
controller; it reads the pad with tensorkart_capture, which the emulator package does not import)
and the emulator as the feed child of a private play/eval stack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tensorkart_cli.errors import CliError
from tensorkart_cli.settings import cli_settings
from tensorkart_emulator.cli import app


@app.command("pad")
def pad(
    controller: Annotated[
        str | None, typer.Option("--controller", help="controller host:port [default: CONTROLLER_ADDR]")
    ] = None,
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

    controller = controller or cli_settings().controller_addr
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
