"""The edge play relay's command line: `python -m tensorkart_capture.relay --source sim|screen|replay`
(see tensorkart_capture.relay). Prints the relay's totals as one JSON line at the end."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from typing import Annotated, Literal

import typer

from tensorkart_capture import relay
from tensorkart_capture.relay import (
    Relay,
    RelayOptions,
    RelaySettings,
    human_reader,
    interventions_streamer,
)
from tensorkart_capture.relay_stats import RelayStats, progress_line
from tensorkart_core.cli import command_app
from tensorkart_core.logs import setup_logging
from tensorkart_core.settings import CommonSettings, load_settings

app = command_app(relay.__doc__.splitlines()[0], group=False)
Source = Literal["screen", "sim", "replay"]
Human = Literal["gamepad", "frame", "none"]


@app.command()
def relay_command(
    source: Source = "screen",
    sim_address: Annotated[str | None, typer.Option(help="simulator frame feed host:port (--source sim)")] = None,
    dataset: Annotated[str | None, typer.Option(help="dataset to replay (--source replay)")] = None,
    rate: Annotated[float, typer.Option(help="frames per second (screen, replay)")] = 30.0,
    region: Annotated[str, typer.Option(help="screen region WxH or LEFT,TOP,WxH")] = "640x480",
    inference: Annotated[str | None, typer.Option(help="inference host:port [default: INFERENCE_ADDR]")] = None,
    controller: Annotated[str | None, typer.Option(help="controller host:port [default: CONTROLLER_ADDR]")] = None,
    recorder: Annotated[
        str | None, typer.Option(help="recorder host:port for interventions [default: RECORDER_ADDR]")
    ] = None,
    port: Annotated[int, typer.Option(help="N64 controller port 0-3")] = 0,
    shadow: Annotated[
        bool, typer.Option("--shadow", help="model predicts, the human drives; agreement measured")
    ] = False,
    human: Annotated[Human, typer.Option(help="who can take over (LB)")] = "none",
    pad: str = "xbox",
    session: Annotated[str | None, typer.Option(help="session name [default: play-<UTC time>]")] = None,
    no_record_interventions: Annotated[bool, typer.Option("--no-record-interventions")] = False,
    full_frames: Annotated[bool, typer.Option("--full-frames", help="send 640x480 frames (no edge pre-processing)")] = (
        False
    ),
    seconds: Annotated[float | None, typer.Option(help="stop after this many seconds")] = None,
    quiet: Annotated[bool, typer.Option("--quiet")] = False,
) -> None:
    """Relay frames from a source to the inference server and its steering to the controller."""
    settings = load_settings(RelaySettings)
    setup_logging("relay", settings.log_level)
    session = session or time.strftime("play-%Y%m%d-%H%M%S", time.gmtime())
    options = RelayOptions(
        inference or settings.inference_addr,
        controller or settings.controller_addr,
        port=port,
        edge_preprocess=not full_frames,
        shadow=shadow,
        session=session,
        live=True,  # the dashboard's live view (LIVE_ENABLED=0 turns it off)
    )
    try:
        reader = human_reader(human, pad)
        frames = source_for(source, sim_address, dataset, rate, region, settings)
    except (ValueError, RuntimeError, ConnectionError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None
    record = reader is not None and not shadow and not no_record_interventions
    streamer = (
        interventions_streamer(recorder or settings.recorder_addr, session, {"source": source}) if record else None
    )
    raise typer.Exit(run(Relay(options, reader, streamer), frames, shadow, seconds, quiet))


def source_for(
    source: str, sim_address: str | None, dataset: str | None, rate: float, region: str, settings: CommonSettings
):
    from tensorkart_capture.sources import open_source

    if source == "sim":
        if not sim_address:
            raise ValueError("--source sim needs --sim-address HOST:PORT (the simulator's feed)")
        return open_source("sim", address=sim_address)
    if source == "replay":
        if not dataset:
            raise ValueError("--source replay needs --dataset NAME")
        return open_source("replay", data_root=settings.data_root, dataset=dataset, rate_hz=rate)
    return open_source("screen", region=region, rate_hz=rate)


def run(relay: Relay, source, shadow: bool, seconds: float | None, quiet: bool) -> int:
    """Relay until the source ends, SIGTERM/SIGINT or `seconds`; print the totals; the exit status."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if seconds:
        threading.Timer(seconds, stop.set).start()

    def show(stats: RelayStats) -> None:
        if not quiet:
            print(progress_line(stats, relay.agreement() if shadow else None), end="", file=sys.stderr, flush=True)

    try:
        with source:
            stats = relay.run(source, stop, show)
    except ConnectionError as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1
    if not quiet:
        print(file=sys.stderr)
    print(json.dumps(stats.to_dict(), sort_keys=True), flush=True)
    return 0


def main() -> None:
    """`python -m tensorkart_capture.relay`."""
    app(prog_name="python -m tensorkart_capture.relay")
