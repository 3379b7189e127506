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
import signal
import sys
import threading
import time

import typer

from tensorkart_cli.errors import CliError
from tensorkart_cli.settings import cli_settings


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
    input_bot: str | None = typer.Option(
        None, help="the controller's input-bot endpoint [default: CONTROLLER_INPUT_BOT_URL or http://127.0.0.1:8082]"
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
    from tensorkart_cli import preflight
    from tensorkart_cli.playstack import PrivateStack, StackError, open_feed, wait_exit
    from tensorkart_cli.summary import live_figures, summary_line

    if source not in ("sim", "screen", "emulator"):
        raise CliError(f"--source must be sim, screen or emulator, got {source!r}", "e.g. --source sim", status=2)
    preflight.positive(seconds, "--seconds", "60")
    if source == "sim":
        preflight.track(track)
        if not headless:
            preflight.display("the game window (--window)")
    elif source == "screen":
        preflight.display("--source screen (screen capture)")
    from tensorkart_capture.relay import (
        Relay,
        RelayOptions,
        human_reader,
        interventions_streamer,
        progress_line,
    )

    settings = cli_settings()
    input_bot = input_bot or settings.controller_input_bot_url
    session = session or time.strftime("play-%Y%m%d-%H%M%S", time.gmtime())
    options = RelayOptions(
        settings.inference_addr,
        settings.controller_addr,
        port=port,
        edge_preprocess=not full_frames,
        shadow=shadow,
        session=session,
        max_frame_age_ms=60_000 if lockstep else 250.0,
        live=True,  # the dashboard's live view (LIVE_ENABLED=0 turns it off)
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
        recorder = settings.recorder_addr
        if source == "sim":  # started before this process makes any gRPC call (fork safety)
            arguments = [
                "--headless" if headless else "--window",
                "--lockstep" if lockstep else "--realtime",
                "--driver", "expert" if shadow else "controller",
                "--input-bot", input_bot, "--track", track, "--laps", str(laps), "--report",
                "--traffic", str(traffic), *(["--theme", theme] if theme else []),
            ]  # fmt: skip
            feed, simulator = stack.start_simulator(arguments)
        # The services this run needs, each asked once, before any frame is driven.
        preflight.grpc_service(options.inference_addr, "inference server", "INFERENCE_ADDR")
        preflight.active_model(options.inference_addr)
        preflight.grpc_service(options.controller_addr, "controller", "CONTROLLER_ADDR")
        streamer = interventions_streamer(recorder, session, {"source": source, "track": track}) if record else None
        relay = Relay(options, human, streamer)
        if not relay.wait_connected(30):
            relay.close()
            raise StackError(f"the inference server at {options.inference_addr} did not accept a Drive stream")
        if simulator is not None:
            frames = open_feed(feed, simulator, 60.0, stack.outputs)
        else:
            from tensorkart_capture.sources import open_source

            if source == "emulator":  # the emulator frontend's feed (tensorkart emulator run)
                frames = open_source("sim", address=settings.emulator_addr)
            else:
                frames = open_source("screen", region=region, rate_hz=rate)

        def show(stats) -> None:
            line = progress_line(stats, relay.agreement() if shadow else None).rstrip()
            last = getattr(frames, "last", None)  # the practice track's latest frame: lap, interventions
            if last is not None:
                line += "  " + live_figures(last.laps, last.interventions, last.sim_seconds, last.finished)
            print(line + "   ", end="", file=sys.stderr, flush=True)

        with frames:
            stats = relay.run(frames, stop, show)
        show(stats)  # the final figures, however few progress ticks the run had
        print(file=sys.stderr)
        result: dict[str, object] = {"session": session, **stats.to_dict()}
        if simulator is not None:
            if simulator.process.poll() is None:  # stopped early: the track still reports
                simulator.process.send_signal(signal.SIGTERM)
            wait_exit(simulator, 10.0)
            result["sim"] = stack.outputs.last_json("simulator")
    except (StackError, ConnectionError, ValueError, RuntimeError) as error:
        raise CliError(str(error), "show the practice track's log: add --verbose") from None
    finally:
        stack.stop()
    if result.get("sim"):
        driving = result["sim"].get("driver") == "controller" and result.get("models")
        typer.echo(summary_line(result["sim"], result["models"][-1] if driving else None), err=True)
    typer.echo(json.dumps(result, sort_keys=True))
