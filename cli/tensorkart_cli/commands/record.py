"""`tensorkart record`: record a session through capture -> recorder (--source sim|screen|replay).

With --source sim it starts the practice track itself (headless, real time, the expert
driving) and records what it renders and what the expert pressed. It uses the recorder
at RECORDER_ADDR; when none answers there it starts a private one for the duration (on
a free port, same data root) and says so. Progress goes to stderr; the last stdout line
is the dataset path.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from tensorkart_cli.supervisor import free_port
from tensorkart_core.dataset import DatasetNameError, validate_name
from tensorkart_core.health import check as grpc_health
from tensorkart_core.health import wait_until_serving

DEFAULT_RECORDER_ADDR = "127.0.0.1:50051"


def data_root_option(value: Path | None) -> Path:
    return value if value is not None else Path(os.environ.get("TENSORKART_DATA") or "./data")


def _stop(process: subprocess.Popen, grace: float = 15.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(path: Path, lines: int = 8) -> str:
    text = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
    return "\n".join(f"  {line}" for line in text[-lines:])


@contextlib.contextmanager
def recorder_at(address: str | None, data_root: Path, log_dir: Path) -> Iterator[str]:
    """The recorder to use: `address` if it answers, else a private one started for the duration."""
    address = address or os.environ.get("RECORDER_ADDR") or DEFAULT_RECORDER_ADDR
    if grpc_health(address, timeout=1.0) == "SERVING":
        yield address
        return
    port = free_port()
    private = f"127.0.0.1:{port}"
    env = {
        **os.environ,
        "TENSORKART_DATA": str(data_root),
        "RECORDER_HOST": "127.0.0.1",
        "RECORDER_PORT": str(port),
        "RECORDER_METRICS_PORT": "0",
    }
    log_path = log_dir / "recorder.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tensorkart_recorder"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        if not wait_until_serving(private, timeout=60):
            raise ValueError(f"could not start a private recorder:\n{_tail(log_path)}")
        typer.echo(
            f"no recorder answers at {address}; started a private one on {private} (data: {data_root})", err=True
        )
        yield private
    finally:
        _stop(process)


@contextlib.contextmanager
def simulator(
    track: str,
    seconds: float | None,
    laps: int | None,
    seed: int | None,
    noise: float | None,
    log_dir: Path,
    look: tuple[str, ...] = (),
) -> Iterator[tuple[str, subprocess.Popen]]:
    """The practice track, headless in real time, the expert driving, serving its feed on a free port."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "tensorkart_simulator",
        "run",
        "--headless",
        "--realtime",
        "--driver",
        "expert",
        "--track",
        track,
        "--feed-port",
        str(port),
        "--wait-for-subscriber",
    ]
    if seconds is not None:
        command += ["--max-seconds", str(seconds)]
    command += ["--laps", str(laps if laps is not None else 0)]
    if seed is not None:
        command += ["--seed", str(seed)]
    if noise is not None:
        command += ["--noise", str(noise)]
    command += list(look)  # --theme / --theme-jitter / --traffic
    env = {**os.environ, "SIMULATOR_METRICS_PORT": "0", "SIMULATOR_HOST": "127.0.0.1"}
    log_path = log_dir / "simulator.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while grpc_health(address, timeout=0.5) != "SERVING":
            if process.poll() is not None or time.monotonic() > deadline:
                raise ValueError("the simulator did not start (its log is above)")
            time.sleep(0.1)
        yield address, process
    finally:
        _stop(process)
        if process.returncode not in (0, -signal.SIGTERM):
            typer.echo(f"the simulator exited with {process.returncode}:\n{_tail(log_path)}", err=True)


def record(
    name: Annotated[str, typer.Option("--name", help="dataset name: samples/NAME")],
    source: Annotated[str, typer.Option("--source", help="sim | screen | replay | emulator (EMULATOR_ADDR)")] = "sim",
    track: Annotated[str, typer.Option("--track", help="practice track name or file (--source sim)")] = "luigi",
    seconds: Annotated[float | None, typer.Option("--seconds", help="how long to record")] = None,
    laps: Annotated[int | None, typer.Option("--laps", help="--source sim: stop after N laps")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="dataset to replay (--source replay)")] = None,
    rate: Annotated[float, typer.Option("--rate", help="frames per second (screen, replay)")] = 30.0,
    data: Annotated[Path | None, typer.Option("--data", help="data root [default: $TENSORKART_DATA or ./data]")] = None,
    recorder: Annotated[
        str | None, typer.Option("--recorder", help="recorder host:port [default: RECORDER_ADDR]")
    ] = None,
    region: Annotated[str, typer.Option("--region", help="screen region WxH or LEFT,TOP,WxH")] = "640x480",
    monitor: Annotated[int, typer.Option("--monitor", help="screen monitor (1 = first)")] = 1,
    pad: Annotated[
        str, typer.Option("--pad", help="pad preset xbox|dualshock|n64 or JSON, + KEY=VALUE; none = no pad")
    ] = "xbox",
    pad_index: Annotated[int, typer.Option("--pad-index")] = 0,
    seed: Annotated[int | None, typer.Option("--seed", help="--source sim: simulator seed")] = None,
    noise: Annotated[float | None, typer.Option("--noise", help="--source sim: expert steering noise")] = None,
    theme: Annotated[str | None, typer.Option("--theme", help="--source sim: theme name or file")] = None,
    theme_jitter: Annotated[
        float, typer.Option("--theme-jitter", help="--source sim: seeded lighting/colour jitter 0..1")
    ] = 0.0,
    traffic: Annotated[int, typer.Option("--traffic", min=0, help="--source sim: computer karts")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="append to an existing dataset")] = False,
    preprocess: Annotated[
        str | None,
        typer.Option("--preprocess", help="edge pre-processing: a PreprocessSpec as JSON (default: full frames)"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress line")] = False,
) -> None:
    """Record a session through capture -> recorder; prints the dataset path last."""
    from tensorkart_capture.recording import Progress
    from tensorkart_capture.runner import RecordOptions
    from tensorkart_capture.runner import record as run_record
    from tensorkart_capture.streamer import RecorderUnavailable

    try:
        validate_name(name)
    except DatasetNameError as error:
        raise typer.BadParameter(str(error), param_hint="--name") from None
    if source not in ("sim", "screen", "replay", "emulator"):
        raise typer.BadParameter("choose sim, screen, replay or emulator", param_hint="--source")
    if source == "replay" and not dataset:
        raise typer.BadParameter("--source replay needs --dataset NAME", param_hint="--dataset")
    if source == "sim" and seconds is None and laps is None:
        laps = 1
    spec = None
    if preprocess:
        from tensorkart_core.preprocess import PreprocessSpec

        try:
            spec = PreprocessSpec.from_json(preprocess)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--preprocess") from None
    root = data_root_option(data)
    root.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()

    def handle(_signum: int, _frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}

    def show(progress: Progress) -> None:
        if quiet:
            return
        s = progress.stats
        link = "" if s.connected else "  (recorder not connected)"
        typer.echo(
            f"\rframes {progress.frames}  fps {progress.fps:5.1f}  written {s.written}  dropped {s.dropped}{link}   ",
            err=True,
            nl=False,
        )

    options = RecordOptions(
        name=name,
        source=source,
        rate_hz=rate,
        data_root=root,
        dataset=dataset,
        region=region,
        monitor=monitor,
        pad=pad,
        pad_index=pad_index,
        resume=resume,
        preprocess=spec,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="tensorkart-record-") as logs, contextlib.ExitStack() as stack:
            log_dir = Path(logs)
            options.recorder_addr = stack.enter_context(recorder_at(recorder, root, log_dir))
            if source == "sim":
                look = ("--traffic", str(traffic), "--theme-jitter", str(theme_jitter))
                look += ("--theme", theme) if theme else ()
                address, _sim = stack.enter_context(simulator(track, seconds, laps, seed, noise, log_dir, look))
                options.sim_address = address
                options.rate_hz = 30.0
                options.metadata = {"track": track, "driver": "expert", "theme": theme or "", "traffic": str(traffic)}
                # The simulator ends the run (--max-seconds / --laps); a wall-clock guard in case it stalls.
                guard = threading.Timer((seconds or 600.0) * 3 + 60, stop.set)
                guard.daemon = True
                guard.start()
                stack.callback(guard.cancel)
            else:
                options.seconds = seconds
            if source == "emulator":  # the emulator frontend's feed is the practice track's feed
                options.source, options.sim_address = "sim", os.environ.get("EMULATOR_ADDR", "127.0.0.1:50056")
            result = run_record(options, stop=stop, on_progress=show)
    except RecorderUnavailable as error:
        typer.echo(f"\ntensorkart record: {error}", err=True)
        raise typer.Exit(1) from None
    except (ValueError, FileNotFoundError, ConnectionError, RuntimeError) as error:
        typer.echo(f"\ntensorkart record: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    totals = result.to_dict()
    elapsed = result.seconds
    if not quiet:
        typer.echo("", err=True)
    typer.echo(
        f"recorded {totals['frames_written']} frames in {elapsed:.1f}s "
        f"({totals['frames_written'] / elapsed if elapsed else 0:.1f} fps), dropped {totals['frames_dropped']}, "
        f"rejected {totals['frames_rejected']}",
        err=True,
    )
    for line in result.rejections[:5]:
        typer.echo(f"  rejected {line}", err=True)
    if totals["frames_written"] == 0:
        typer.echo("tensorkart record: nothing was recorded", err=True)
        raise typer.Exit(1)
    typer.echo(str(root / "samples" / name))
