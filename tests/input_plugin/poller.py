"""A child process that drives an input plugin through the real mupen64plus core library, as
the emulator does, one command per stdin line; every result is a JSON line on stdout.

    python tests/input_plugin/poller.py --plugin PATH [--set 'Input-Bot-Control0[port]=8082' ...]
    stdin:  poll <controller>            -> {"event": "poll", "controller", "value", "buttons", "x", "y", "ns"}
            polls <controller> <count>   -> {"event": "polls", "controller", "ns": [...], "last": {...}}
            quit                         -> RomClosed, detach, PluginShutdown, CoreShutdown; {"event": "bye"}
Log lines from the core and the plugin come as {"event": "log", "source", "level", "message"}.
Run in its own process so that a crash or a hang in the plugin is a failed test, not a dead runner.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from typing import Annotated

import typer
from m64p import Core, InputPlugin, Pad, synthetic_image

SETTING = re.compile(r"^(?P<section>[^\[\]]+)\[(?P<key>[^\[\]]+)\]=(?P<value>.*)$")


def emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def pad_fields(pad: Pad) -> dict[str, object]:
    return {"value": pad.value, "buttons": list(pad.buttons), "x": pad.x_axis, "y": pad.y_axis}


def configure(core: Core, settings: list[str], as_strings: bool) -> None:
    for setting in settings:
        match = SETTING.match(setting)
        if match is None:
            raise SystemExit(f"--set {setting!r}: expected Section[key]=value")
        value: int | str = match["value"]
        if re.fullmatch(r"-?\d+", match["value"]):
            value = int(match["value"])
        core.set_config(match["section"], match["key"], value, as_string=as_strings)


def serve(plugin: InputPlugin) -> None:
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "poll":
            controller = int(words[1])
            started = time.perf_counter_ns()
            pad = plugin.get_keys(controller)
            emit("poll", controller=controller, ns=time.perf_counter_ns() - started, **pad_fields(pad))
        elif words[0] == "polls":
            controller, count = int(words[1]), int(words[2])
            times, pad = [], Pad.decode(0)
            for _ in range(count):
                started = time.perf_counter_ns()
                pad = plugin.get_keys(controller)
                times.append(time.perf_counter_ns() - started)
            emit("polls", controller=controller, ns=times, last=pad_fields(pad))
        elif words[0] == "quit":
            return
        else:
            emit("error", message=f"unknown command {words[0]!r}")


def main(
    plugin_path: Annotated[str, typer.Option("--plugin", help="path of the input plugin .so")],
    settings: Annotated[
        list[str] | None, typer.Option("--set", help="Section[key]=value, set through the core's config API")
    ] = None,
    as_strings: Annotated[
        bool, typer.Option("--as-strings", help="set every value as a string (as mupen64plus --set does)")
    ] = False,
) -> None:
    """Load the plugin into the core and serve poll commands from stdin (see the module docstring)."""

    def log(source: str, level: int, message: str) -> None:
        emit("log", source=source, level=level, message=message)

    with tempfile.TemporaryDirectory(prefix="m64p-config-") as config_dir:
        core = Core(config_dir, log)
        configure(core, settings or [], as_strings)
        plugin = InputPlugin(plugin_path, log)
        kind, version, api, name = plugin.version()
        plugin.startup(core)
        core.open_image(synthetic_image())
        core.attach_input(plugin)  # the core checks the API version and calls InitiateControllers
        emit("ready", plugin_type=kind, plugin_version=version, api_version=api, name=name, rom_open=plugin.rom_open())
        serve(plugin)
        plugin.rom_closed()
        core.detach_input()
        shutdown = plugin.shutdown()
        core.shutdown()
        emit("bye", plugin_shutdown=shutdown)


if __name__ == "__main__":
    typer.run(main)
