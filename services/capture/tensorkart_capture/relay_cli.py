"""The edge play relay's command line: `python -m tensorkart_capture.relay --source sim|screen|replay`
(see tensorkart_capture.relay). Prints the relay's totals as one JSON line at the end."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time

from tensorkart_capture import relay
from tensorkart_capture.relay import (
    Relay,
    RelayOptions,
    RelaySettings,
    human_reader,
    interventions_streamer,
)
from tensorkart_capture.relay_stats import RelayStats, progress_line
from tensorkart_core.logs import setup_logging
from tensorkart_core.settings import CommonSettings, load_settings


def parser(settings: RelaySettings) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tensorkart_capture.relay", description=relay.__doc__.splitlines()[0])
    p.add_argument("--source", choices=["screen", "sim", "replay"], default="screen")
    p.add_argument("--sim-address", help="simulator frame feed host:port (--source sim)")
    p.add_argument("--dataset", help="dataset to replay (--source replay)")
    p.add_argument("--rate", type=float, default=30.0, help="frames per second (screen, replay)")
    p.add_argument("--region", default="640x480", help="screen region WxH or LEFT,TOP,WxH")
    p.add_argument("--inference", default=settings.inference_addr, help="INFERENCE_ADDR")
    p.add_argument("--controller", default=settings.controller_addr, help="CONTROLLER_ADDR")
    p.add_argument("--recorder", default=settings.recorder_addr, help="RECORDER_ADDR (interventions)")
    p.add_argument("--port", type=int, default=0, help="N64 controller port 0-3")
    p.add_argument("--shadow", action="store_true", help="model predicts, the human drives; agreement is measured")
    p.add_argument("--human", choices=["gamepad", "frame", "none"], default="none", help="who can take over (LB)")
    p.add_argument("--pad", default="xbox")
    p.add_argument("--session", default=time.strftime("play-%Y%m%d-%H%M%S", time.gmtime()))
    p.add_argument("--no-record-interventions", action="store_true")
    p.add_argument("--full-frames", action="store_true", help="send 640x480 frames (no edge pre-processing)")
    p.add_argument("--seconds", type=float, help="stop after this many seconds")
    p.add_argument("--quiet", action="store_true")
    return p


def source_for(args: argparse.Namespace, settings: CommonSettings):
    from tensorkart_capture.sources import open_source

    if args.source == "sim":
        if not args.sim_address:
            raise ValueError("--source sim needs --sim-address HOST:PORT (the simulator's --feed-port)")
        return open_source("sim", address=args.sim_address)
    if args.source == "replay":
        if not args.dataset:
            raise ValueError("--source replay needs --dataset NAME")
        return open_source("replay", data_root=settings.data_root, dataset=args.dataset, rate_hz=args.rate)
    return open_source("screen", region=args.region, rate_hz=args.rate)


def main(argv: list[str] | None = None) -> int:
    settings = load_settings(RelaySettings)
    setup_logging("relay", settings.log_level)
    args = parser(settings).parse_args(argv)
    options = RelayOptions(
        args.inference,
        args.controller,
        port=args.port,
        edge_preprocess=not args.full_frames,
        shadow=args.shadow,
        session=args.session,
        live=True,  # the dashboard's live view (LIVE_ENABLED=0 turns it off)
    )
    try:
        human = human_reader(args.human, args.pad)
        source = source_for(args, settings)
    except (ValueError, RuntimeError, ConnectionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    record = human is not None and not args.shadow and not args.no_record_interventions
    streamer = interventions_streamer(args.recorder, args.session, {"source": args.source}) if record else None
    relay = Relay(options, human, streamer)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.seconds:
        threading.Timer(args.seconds, stop.set).start()

    def show(stats: RelayStats) -> None:
        if not args.quiet:
            print(progress_line(stats, relay.agreement() if args.shadow else None), end="", file=sys.stderr, flush=True)

    try:
        with source:
            stats = relay.run(source, stop, show)
    except ConnectionError as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(file=sys.stderr)
    print(json.dumps(stats.to_dict(), sort_keys=True), flush=True)
    return 0
