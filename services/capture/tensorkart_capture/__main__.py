"""`python -m tensorkart_capture record ...`: capture frames + joystick and stream them to the recorder.

Serves Prometheus metrics while it runs; SIGTERM/SIGINT stop capturing, the queue is
drained to the recorder, and the totals are printed (last stdout line, JSON).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

import grpc

from tensorkart_capture.recording import Progress
from tensorkart_capture.runner import RecordOptions, record
from tensorkart_capture.settings import CaptureSettings
from tensorkart_capture.streamer import RecorderUnavailable
from tensorkart_core.dataset import DatasetNameError, validate_name
from tensorkart_core.logs import setup_logging
from tensorkart_core.metrics import serve_metrics
from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.settings import load_settings


def progress_line(progress: Progress) -> str:
    s = progress.stats
    state = "" if s.connected else "  (recorder not connected)"
    return (
        f"\rframes {progress.frames}  fps {progress.fps:5.1f}  written {s.written}  dropped {s.dropped}"
        f"  queued {progress.queued}{state}   "
    )


def parser(settings: CaptureSettings) -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m tensorkart_capture", description=__doc__)
    commands = main.add_subparsers(dest="command", required=True)
    p = commands.add_parser("record", help="record a session to the recorder")
    p.add_argument("--name", required=True, help="dataset name (samples/NAME)")
    p.add_argument("--source", choices=["screen", "sim", "replay"], default="screen")
    p.add_argument("--recorder", default=settings.recorder_addr, help="recorder host:port (RECORDER_ADDR)")
    p.add_argument(
        "--rate",
        type=float,
        default=settings.rate_hz,
        help="frames per second (screen, replay; sim: paces a --lockstep simulator)",
    )
    p.add_argument("--seconds", type=float, help="stop after this many seconds")
    p.add_argument("--frames", type=int, help="stop after this many frames")
    p.add_argument("--sim-address", help="simulator frame feed host:port (--source sim)")
    p.add_argument("--data", type=Path, default=settings.data_root, help="data root (replay source)")
    p.add_argument("--dataset", help="dataset to replay (--source replay)")
    p.add_argument("--region", default=settings.region, help="screen region WxH or LEFT,TOP,WxH")
    p.add_argument("--monitor", type=int, default=settings.monitor)
    p.add_argument(
        "--pad", default=settings.pad, help="pad preset xbox|dualshock|n64 or JSON file, + KEY=VALUE; none = no pad"
    )
    p.add_argument("--pad-index", type=int, default=settings.pad_index)
    p.add_argument("--preprocess", help="edge pre-processing spec as JSON (PreprocessSpec); default: full frames")
    p.add_argument("--resume", action="store_true", help="append to an existing dataset")
    p.add_argument("--queue-size", type=int, default=settings.queue_size)
    p.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE", help="extra session.json metadata")
    p.add_argument("--metrics-port", type=int, default=settings.metrics_port)
    p.add_argument("--quiet", action="store_true", help="no progress line")
    return main


def main(argv: list[str] | None = None) -> int:
    settings = load_settings(CaptureSettings)
    setup_logging("capture", settings.log_level)
    args = parser(settings).parse_args(argv)
    try:
        validate_name(args.name)
        metadata = dict(item.split("=", 1) for item in args.meta)
        spec = PreprocessSpec.from_json(args.preprocess) if args.preprocess else None
    except (DatasetNameError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    options = RecordOptions(
        name=args.name,
        source=args.source,
        recorder_addr=args.recorder,
        rate_hz=args.rate,
        seconds=args.seconds,
        max_frames=args.frames,
        sim_address=args.sim_address,
        data_root=args.data,
        dataset=args.dataset,
        region=args.region,
        monitor=args.monitor,
        pad=args.pad,
        pad_index=args.pad_index,
        preprocess=spec,
        resume=args.resume,
        queue_size=args.queue_size,
        metadata=metadata,
    )
    stop = threading.Event()

    def handle(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    port = serve_metrics(args.metrics_port, settings.metrics_host)
    print(f"capture: metrics on http://{settings.metrics_host}:{port}/metrics", file=sys.stderr)

    def show(progress: Progress) -> None:
        if not args.quiet:
            print(progress_line(progress), end="", file=sys.stderr, flush=True)

    try:
        result = record(options, stop=stop, on_progress=show)
    except RecorderUnavailable as error:  # before any frame was captured
        if error.code == grpc.StatusCode.ALREADY_EXISTS:
            print(
                f"error: dataset {args.name!r} already exists on the recorder — choose another --name, or add --resume "
                "to append to it",
                file=sys.stderr,
            )
        else:
            print(f"error: {error}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError, ConnectionError, RuntimeError) as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(file=sys.stderr)
    print(json.dumps(result.to_dict(), sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
