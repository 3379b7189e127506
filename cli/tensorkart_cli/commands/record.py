"""`tensorkart record`: record a session through capture -> recorder (--source sim|screen|replay).

With --source sim it starts the practice track itself (headless, real time, the expert
driving) and records what it renders and what the expert pressed. It uses the recorder
at RECORDER_ADDR; when none answers there it starts a private one for the duration (on
a free port, same data root) and says so. Progress goes to stderr; the last stdout line
is the dataset path.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer

from tensorkart_cli import preflight
from tensorkart_cli.errors import CliError
from tensorkart_cli.settings import cli_settings
from tensorkart_core.dataset import DatasetNameError, validate_name
from tensorkart_core.launcher import Launcher, ServiceSpec, grpc_ready, python_module


def data_root_option(value: Path | None) -> Path:
    return value if value is not None else cli_settings().data_root


def _tail(path: Path, lines: int = 8) -> str:
    text = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
    return "\n".join(f"  {line}" for line in text[-lines:])


def _last_line(path: Path) -> str:
    text = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
    return text[-1].strip() if text else "no output"


@contextlib.contextmanager
def recorder_at(
    address: str | None, data_root: Path, log_dir: Path, before_private: Callable[[], None] | None = None
) -> Iterator[str]:
    """The recorder to use: `address` if it answers, else a private one started for the duration
    (after `before_private()`, a check that can fail before anything is started)."""
    from tensorkart_core.health import check as grpc_health

    address = address or cli_settings().recorder_addr
    if grpc_health(address, timeout=1.0) == "SERVING":
        yield address
        return
    if before_private is not None:
        before_private()
    env = {
        "TENSORKART_DATA": str(data_root),
        "RECORDER_HOST": "127.0.0.1",
        "RECORDER_PORT": "0",
        "RECORDER_METRICS_PORT": "0",
    }
    spec = ServiceSpec("recorder", python_module("tensorkart_recorder"), env, ("grpc",), grpc_ready())
    with Launcher(grace_seconds=15.0) as launcher:
        child = launcher.start(spec, log_dir / "recorder.log")
        if launcher.wait_ready(60):
            raise CliError(
                f"could not start a private recorder: {child.last_error()}", "start the stack: tensorkart up"
            )
        private = child.address("grpc")
        typer.echo(
            f"no recorder answers at {address}; started a private one on {private} (data: {data_root})", err=True
        )
        yield private


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

    command = python_module(
        "tensorkart_simulator", "run", "--headless", "--realtime", "--driver", "expert", "--track", track, "--feed"
    )
    command.append("--wait-for-subscriber")
    if seconds is not None:
        command += ["--max-seconds", str(seconds)]
    command += ["--laps", str(laps if laps is not None else 0)]
    if seed is not None:
        command += ["--seed", str(seed)]
    if noise is not None:
        command += ["--noise", str(noise)]
    command += list(look)  # --theme / --theme-jitter / --traffic
    env = {"SIMULATOR_METRICS_PORT": "0", "SIMULATOR_HOST": "127.0.0.1"}
    log_path = log_dir / "simulator.log"
    launcher = Launcher(grace_seconds=15.0)
    child = launcher.start(ServiceSpec("simulator", command, env, ("grpc",), grpc_ready()), log_path)
    try:
        if launcher.wait_ready(60):
            raise CliError(f"the practice track did not start: {_last_line(log_path)}")
        yield child.address("grpc"), child.process
    finally:
        launcher.stop_all()
        if child.process.returncode not in (0, -signal.SIGTERM):
            typer.echo(f"the simulator exited with {child.process.returncode}:\n{_tail(log_path)}", err=True)


def _local_name_free(root: Path, name: str) -> None:
    folder = root / "samples" / name
    if folder.is_dir() and any(folder.iterdir()):
        raise preflight.dataset_taken(name)


def refusal(error, name: str) -> CliError:
    """The recorder's typed refusal (or silence) as one line naming the fix."""
    import grpc

    if error.code == grpc.StatusCode.ALREADY_EXISTS:
        return preflight.dataset_taken(name)
    if error.code == grpc.StatusCode.INVALID_ARGUMENT:
        return CliError(error.details, "--name takes letters, digits, '.', '_' and '-' (up to 64)", status=2)
    if error.code is None:
        return CliError(str(error), "start the stack: tensorkart up (or point RECORDER_ADDR at a running recorder)")
    return CliError(f"the recorder refused the session: {error.code.name}: {error.details}")


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
    try:
        validate_name(name)
    except DatasetNameError as error:
        raise CliError(str(error), "--name takes letters, digits, '.', '_' and '-' (up to 64)", status=2) from None
    if source not in ("sim", "screen", "replay", "emulator"):
        raise CliError(
            f"--source must be sim, screen, replay or emulator, got {source!r}", "e.g. --source sim", status=2
        )
    preflight.positive(seconds, "--seconds", "20")
    preflight.positive(laps, "--laps", "1")
    if rate < 0:
        raise CliError(f"--rate must be >= 0, got {rate:g}", "e.g. --rate 30 (0: as fast as the source goes)", status=2)
    if source == "replay" and not dataset:
        raise CliError("--source replay needs the dataset to replay", "add --dataset NAME", status=2)
    if source == "sim":
        preflight.track(track)
    if source == "screen":
        preflight.display("--source screen (screen capture)")
    if source == "sim" and seconds is None and laps is None:
        laps = 1
    spec = None
    if preprocess:
        from tensorkart_core.preprocess import PreprocessSpec

        try:
            spec = PreprocessSpec.from_json(preprocess)
        except ValueError as error:
            raise CliError(
                f"--preprocess: {error}", "give a PreprocessSpec as JSON (see docs/datasets.md)", 2
            ) from None
    root = data_root_option(data)
    root.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()

    def handle(_signum: int, _frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}

    def show(progress) -> None:
        if quiet:
            return
        s = progress.stats
        link = "" if s.connected else "  (recorder unreachable: reconnecting)"
        typer.echo(
            f"\rframes {progress.frames}  fps {progress.fps:5.1f}  written {s.written}  dropped {s.dropped}{link}   ",
            err=True,
            nl=False,
        )

    try:
        with tempfile.TemporaryDirectory(prefix="tensorkart-record-") as logs, contextlib.ExitStack() as stack:
            log_dir = Path(logs)
            # Before the simulator starts, so a taken name costs nothing: ask the recorder that will
            # write the dataset, or look in the data root a private recorder would write to.
            local = None if resume else lambda: _local_name_free(root, name)
            recorder_addr = stack.enter_context(recorder_at(recorder, root, log_dir, local))
            if not resume:
                preflight.dataset_name_free(recorder_addr, name)
            # The capture stack (numpy, image codecs, sources) only once the checks passed.
            from tensorkart_capture.runner import RecordOptions
            from tensorkart_capture.runner import record as run_record

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
                recorder_addr=recorder_addr,
            )
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
                options.source, options.sim_address = "sim", cli_settings().emulator_addr
            result = run_record(options, stop=stop, on_progress=show)
    except (ValueError, FileNotFoundError, ConnectionError, RuntimeError) as error:
        from tensorkart_capture.streamer import RecorderUnavailable

        if isinstance(error, RecorderUnavailable):  # refused (or unanswered) when the session opened
            raise refusal(error, name) from None
        raise CliError(str(error)) from None
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
        raise CliError("nothing was recorded", "check the source: --source, --track, --dataset")
    typer.echo(str(root / "samples" / name))
