"""`tensorkart play`: drive with the running stack's active model (INFERENCE_ADDR, CONTROLLER_ADDR).

--source sim: starts the practice track (window, real time unless --headless/--lockstep),
driven through the controller's input-bot endpoint (--input-bot), and relays its frame feed;
--source screen: relays the emulator's screen region (mupen64plus with the input-bot plugin
pointed at the controller). Holding LB on the gamepad (--override gamepad) takes over: your
stick drives and those frames are recorded as <session>-interventions (DAgger). --shadow: the
model only predicts while the human drives (on the practice track, its expert), and the
model-vs-human agreement is shown and printed. The last line is one JSON object: the relay's
totals, plus the practice track's report with --source sim.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

import typer

DEFAULT_INFERENCE_ADDR = "127.0.0.1:50052"
DEFAULT_CONTROLLER_ADDR = "127.0.0.1:50053"
DEFAULT_RECORDER_ADDR = "127.0.0.1:50051"


def play(
    source: str = typer.Option("sim", help="sim (practice track) | screen (window) | emulator (frontend)"),
    track: str = typer.Option("luigi", help="--source sim: built-in track or a track .json file"),
    laps: int = typer.Option(3, min=0, help="--source sim: laps to drive (0: until Ctrl-C)"),
    theme: str | None = typer.Option(None, help="--source sim: theme (raceway, beach, snow, desert, night or a file)"),
    traffic: int = typer.Option(0, min=0, help="--source sim: computer karts"),
    shadow: bool = typer.Option(False, "--shadow", help="the model only predicts; the human drives"),
    override: str = typer.Option("none", help="who can take over with LB: gamepad | none"),
    pad: str = typer.Option("xbox", help="pad mapping preset or file (see tensorkart record)"),
    headless: bool = typer.Option(False, "--headless/--window", help="--source sim: no window"),
    lockstep: bool = typer.Option(False, "--lockstep/--realtime", help="--source sim: no wall-clock pacing"),
    input_bot: str = typer.Option(
        "http://127.0.0.1:8082", envvar="CONTROLLER_INPUT_BOT_URL", help="the controller's input-bot endpoint"
    ),
    region: str = typer.Option("640x480", help="--source screen: WxH or LEFT,TOP,WxH"),
    rate: float = typer.Option(30.0, help="--source screen: frames per second"),
    seconds: float | None = typer.Option(None, help="stop after this many seconds"),
    port: int = typer.Option(0, min=0, max=3, help="N64 controller port"),
    session: str | None = typer.Option(None, help="session name (interventions dataset: <session>-interventions)"),
    full_frames: bool = typer.Option(False, "--full-frames", help="send 640x480 frames (no edge pre-processing)"),
    verbose: bool = typer.Option(False, "--verbose", help="show the practice track's log"),
) -> None:
    """Drive with the active model through the running stack (see `tensorkart up`)."""
    from tensorkart_capture.relay import (
        Relay,
        RelayOptions,
        human_reader,
        interventions_streamer,
        progress_line,
    )
    from tensorkart_cli.playstack import PrivateStack, StackError, open_feed, wait_exit

    if source not in ("sim", "screen", "emulator"):
        typer.echo(f"error: --source must be sim, screen or emulator, got {source!r}", err=True)
        raise typer.Exit(2)
    session = session or time.strftime("play-%Y%m%d-%H%M%S", time.gmtime())
    options = RelayOptions(
        os.environ.get("INFERENCE_ADDR") or DEFAULT_INFERENCE_ADDR,
        os.environ.get("CONTROLLER_ADDR") or DEFAULT_CONTROLLER_ADDR,
        port=port,
        edge_preprocess=not full_frames,
        shadow=shadow,
        session=session,
        max_frame_age_ms=60_000 if lockstep else 250.0,
    )
    # Who is "the human": the practice track's expert in shadow mode, else the gamepad (LB).
    human_kind = "frame" if shadow and source == "sim" else "gamepad" if (override == "gamepad" or shadow) else "none"
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if seconds:
        timer = threading.Timer(seconds, stop.set)
        timer.daemon = True
        timer.start()
    stack = PrivateStack.create(verbose)
    simulator = None
    try:
        human = human_reader(human_kind, pad)
        record = human_kind == "gamepad" and not shadow
        recorder = os.environ.get("RECORDER_ADDR") or DEFAULT_RECORDER_ADDR
        if source == "sim":  # started before this process makes any gRPC call (fork safety)
            arguments = [
                "--headless" if headless else "--window",
                "--lockstep" if lockstep else "--realtime",
                "--driver", "expert" if shadow else "controller",
                "--input-bot", input_bot, "--track", track, "--laps", str(laps), "--report",
                "--traffic", str(traffic), *(["--theme", theme] if theme else []),
            ]  # fmt: skip
            feed, simulator = stack.start_simulator(arguments)
        streamer = interventions_streamer(recorder, session, {"source": source, "track": track}) if record else None
        relay = Relay(options, human, streamer)
        if not relay.wait_connected(30):
            relay.close()
            raise StackError(f"no inference server answers at {options.inference_addr} (start it: tensorkart up)")
        if simulator is not None:
            frames = open_feed(feed, simulator, 60.0)
        else:
            from tensorkart_capture.sources import open_source

            if source == "emulator":  # the emulator frontend's feed (tensorkart emulator run)
                frames = open_source("sim", address=os.environ.get("EMULATOR_ADDR", "127.0.0.1:50056"))
            else:
                frames = open_source("screen", region=region, rate_hz=rate)

        def show(stats) -> None:
            print(progress_line(stats, relay.agreement() if shadow else None), end="", file=sys.stderr, flush=True)

        with frames:
            stats = relay.run(frames, stop, show)
        print(file=sys.stderr)
        result: dict[str, object] = {"session": session, **stats.to_dict()}
        if simulator is not None:
            if simulator.process.poll() is None:  # stopped early: the track still reports
                simulator.process.send_signal(signal.SIGTERM)
            wait_exit(simulator, 10.0)
            result["sim"] = stack.outputs.last_json("simulator")
    except (StackError, ConnectionError, ValueError, RuntimeError) as error:
        typer.echo(f"\nerror: {error}", err=True)
        if simulator is not None and not verbose:
            typer.echo(stack.outputs.tail("simulator"), err=True)
        raise typer.Exit(1) from None
    finally:
        stack.stop()
    typer.echo(json.dumps(result, sort_keys=True))
