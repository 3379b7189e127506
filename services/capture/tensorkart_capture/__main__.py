"""`python -m tensorkart_capture record ...`: capture frames + joystick and stream them to the recorder.

Serves Prometheus metrics while it runs; SIGTERM/SIGINT stop capturing, the queue is
drained to the recorder, and the totals are printed (last stdout line, JSON).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Literal

import grpc
import typer

from tensorkart_capture.recording import Progress
from tensorkart_capture.runner import RecordOptions, record
from tensorkart_capture.settings import CaptureSettings
from tensorkart_capture.streamer import RecorderUnavailable
from tensorkart_core.cli import command_app
from tensorkart_core.dataset import DatasetNameError, validate_name
from tensorkart_core.logs import setup_logging
from tensorkart_core.metrics import serve_metrics
from tensorkart_core.ports import report_ports
from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.settings import load_settings

Source = Literal["screen", "sim", "replay"]


def progress_line(progress: Progress) -> str:
    s = progress.stats
    state = "" if s.connected else "  (recorder not connected)"
    return (
        f"\rframes {progress.frames}  fps {progress.fps:5.1f}  written {s.written}  dropped {s.dropped}"
        f"  queued {progress.queued}{state}   "
    )


SETTINGS = load_settings(CaptureSettings)  # the defaults below come from CAPTURE_* / RECORDER_ADDR

app = command_app("Capture frames + joystick and stream them to the recorder.", "capture")


@app.command("record")
def record_command(
    name: Annotated[str, typer.Option(help="dataset name (samples/NAME)")],
    source: Annotated[Source, typer.Option()] = "screen",
    recorder: Annotated[str, typer.Option(help="recorder host:port (RECORDER_ADDR)")] = SETTINGS.recorder_addr,
    rate: Annotated[
        float, typer.Option(help="frames per second (screen, replay; sim: paces a --lockstep simulator)")
    ] = SETTINGS.rate_hz,
    seconds: Annotated[float | None, typer.Option(help="stop after this many seconds")] = None,
    frames: Annotated[int | None, typer.Option(help="stop after this many frames")] = None,
    sim_address: Annotated[str | None, typer.Option(help="simulator frame feed host:port (--source sim)")] = None,
    data: Annotated[Path, typer.Option(help="data root (replay source)")] = SETTINGS.data_root,
    dataset: Annotated[str | None, typer.Option(help="dataset to replay (--source replay)")] = None,
    region: Annotated[str, typer.Option(help="screen region WxH or LEFT,TOP,WxH")] = SETTINGS.region,
    monitor: int = SETTINGS.monitor,
    pad: Annotated[
        str, typer.Option(help="pad preset xbox|dualshock|n64 or JSON file, + KEY=VALUE; none = no pad")
    ] = SETTINGS.pad,
    pad_index: int = SETTINGS.pad_index,
    preprocess: Annotated[
        str | None, typer.Option(help="edge pre-processing spec as JSON (PreprocessSpec); default: full frames")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="append to an existing dataset")] = False,
    queue_size: int = SETTINGS.queue_size,
    meta: Annotated[list[str] | None, typer.Option(metavar="KEY=VALUE", help="extra session.json metadata")] = None,
    metrics_port: Annotated[int, typer.Option(help="Prometheus /metrics port (0 = any, reported)")] = (
        SETTINGS.metrics_port
    ),
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress line")] = False,
) -> None:
    """Record a session to the recorder."""
    setup_logging("capture", SETTINGS.log_level)
    try:
        validate_name(name)
        metadata = dict(item.split("=", 1) for item in meta or [])
        spec = PreprocessSpec.from_json(preprocess) if preprocess else None
    except (DatasetNameError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None
    options = RecordOptions(
        name=name,
        source=source,
        recorder_addr=recorder,
        rate_hz=rate,
        seconds=seconds,
        max_frames=frames,
        sim_address=sim_address,
        data_root=data,
        dataset=dataset,
        region=region,
        monitor=monitor,
        pad=pad,
        pad_index=pad_index,
        preprocess=spec,
        resume=resume,
        queue_size=queue_size,
        metadata=metadata,
    )
    raise typer.Exit(run_recording(options, metrics_port, quiet))


def run_recording(options: RecordOptions, metrics_port: int, quiet: bool) -> int:
    """Record until the source ends or SIGTERM/SIGINT; print the totals; the exit status."""
    stop = threading.Event()

    def handle(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    port = serve_metrics(metrics_port, SETTINGS.metrics_host)
    report_ports(metrics=port)
    print(f"capture: metrics on http://{SETTINGS.metrics_host}:{port}/metrics", file=sys.stderr)

    def show(progress: Progress) -> None:
        if not quiet:
            print(progress_line(progress), end="", file=sys.stderr, flush=True)

    try:
        result = record(options, stop=stop, on_progress=show)
    except RecorderUnavailable as error:  # before any frame was captured
        if error.code == grpc.StatusCode.ALREADY_EXISTS:
            print(
                f"error: dataset {options.name!r} already exists on the recorder — choose another --name, or add "
                "--resume to append to it",
                file=sys.stderr,
            )
        else:
            print(f"error: {error}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError, ConnectionError, RuntimeError) as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1
    if not quiet:
        print(file=sys.stderr)
    print(json.dumps(result.to_dict(), sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    app(prog_name="python -m tensorkart_capture")
