"""`tensorkart eval --model VERSION --track TRACK --laps N`: closed-loop evaluation, self-contained.

Starts its own inference server pinned to VERSION, a controller in lock-step mode and the
practice track (headless, lock-step, driven through the controller's input-bot endpoint), all
on free loopback ports, runs the edge relay between them and prints the simulator's report
({"track", "model", "laps", "sim_seconds", "interventions", "autonomy", "progress", "fps"}) as the last
line. Simulated time is capped (--max-seconds, default 180 s a lap) so a model that never
finishes a lap still ends, and so is wall-clock time (--timeout). --theme and --traffic set the
practice track's look and computer karts.

`tensorkart eval --model VERSION --suite NAME_OR_FILE`: every run of an evaluation suite (each
an eval as above, --jobs at a time), one JSON line per run scored against the expert, then the
aggregate line (tensorkart_cli.suite_runner, docs/simulator.md).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import typer

from tensorkart_cli.errors import CliError
from tensorkart_cli.settings import cli_settings


def evaluate(
    model: str = typer.Option(..., "--model", help="model version to evaluate (models/<version>/)"),
    track: str = typer.Option("luigi", help="built-in track (luigi, twists, heldout) or a track .json file"),
    laps: int = typer.Option(1, min=1, help="laps to drive"),
    max_seconds: float | None = typer.Option(None, help="simulated-time cap (default 180 s per lap)"),
    timeout: float = typer.Option(1800.0, help="wall-clock cap, seconds"),
    seed: int = typer.Option(0, help="simulator seed"),
    theme: str | None = typer.Option(None, help="practice-track theme (raceway, beach, snow, desert, night or a file)"),
    traffic: int = typer.Option(0, min=0, help="computer karts on the practice track"),
    suite: str | None = typer.Option(None, help="evaluate over a suite (heldout, quick or a suite .json file)"),
    jobs: int | None = typer.Option(None, min=1, help="--suite: runs at a time (default: one per two cores)"),
    data: Path | None = typer.Option(None, help="data root holding models/ [default: TENSORKART_DATA or ./data]"),
    verbose: bool = typer.Option(False, "--verbose", help="show the private services' logs"),
    source: str = typer.Option("sim", help="sim (practice track) | emulator (--rom, --state, --game)"),
    rom: Path | None = typer.Option(None, help="--source emulator: the N64 ROM"),
    state: Path | None = typer.Option(None, help="--source emulator: savestate to start from"),
    game: str = typer.Option("mk64", help="--source emulator: RAM table naming lap and course_progress"),
) -> None:
    """Drive the practice track with VERSION (private stack) and print the report JSON last."""
    from tensorkart_cli import preflight
    from tensorkart_cli.playstack import PrivateStack, StackError, run_relay_on_sim, wait_exit
    from tensorkart_cli.summary import summary_line
    from tensorkart_core.registry import RegistryError, read_metadata

    if source not in ("sim", "emulator"):
        raise CliError(f"--source must be sim or emulator, got {source!r}", "e.g. --source sim", status=2)
    if source == "emulator" and rom is None:
        raise CliError("--source emulator needs --rom (the N64 ROM to run)", "add --rom PATH", status=2)
    data = data_root = data or cli_settings().data_root
    if source == "sim":
        preflight.track(track)
    try:
        read_metadata(data_root, model)
    except RegistryError as error:
        raise CliError(str(error), "see the versions: tensorkart models list", status=2) from None
    preflight.positive(max_seconds, "--max-seconds", "60")
    preflight.positive(timeout, "--timeout", "600")
    if suite is not None:
        _evaluate_suite(model, suite, jobs, data, timeout)
        return
    from tensorkart_capture.relay import RelayOptions, progress_line

    cap = max_seconds if max_seconds is not None else 180.0 * laps
    stack = PrivateStack.create(verbose)
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    wall = threading.Timer(timeout, stop.set)
    wall.daemon = True
    wall.start()
    try:
        # every child is started before this process makes its first gRPC call: forking a
        # process with live gRPC threads can crash the child
        stack.start_inference(data_root, model)
        stack.start_controller("free_run" if source == "emulator" else "lock_step")  # emulator: it waits itself
        if source == "emulator":
            from tensorkart_cli.commands.emulator import start_emulator_feed

            feed, simulator = start_emulator_feed(stack, rom, state, game, laps, cap, model)
        else:
            feed, simulator = stack.start_simulator(
                [
                    "--headless", "--lockstep", "--driver", "controller", "--input-bot", stack.input_bot_url,
                    "--track", track, "--laps", str(laps), "--max-seconds", str(cap), "--seed", str(seed),
                    "--label-model", model, "--report", "--no-hud", "--traffic", str(traffic),
                    *(["--theme", theme] if theme else []),
                ]
            )  # fmt: skip
        stack.wait_ready()
        options = RelayOptions(stack.inference_addr, stack.controller_addr, max_frame_age_ms=60_000)

        def show(stats) -> None:
            print(progress_line(stats), end="", file=sys.stderr, flush=True)

        stats = run_relay_on_sim(options, feed, simulator, stop, progress=show, outputs=stack.outputs)
        print(file=sys.stderr)
        code = wait_exit(simulator, 30.0)
        report = stack.outputs.last_json("simulator")
        print(f"relay: {json.dumps(stats.to_dict(), sort_keys=True)}", file=sys.stderr)
        if stop.is_set() and code is None:
            raise CliError(f"evaluation stopped (wall-clock cap {timeout:.0f}s or a signal)", "raise --timeout")
        if code != 0 or report is None:
            raise CliError(f"the practice track failed (status {code}): {stack.outputs.last_error('simulator')}")
    except (StackError, ConnectionError) as error:
        raise CliError(str(error), "show every service's log: add --verbose") from None
    finally:
        wall.cancel()
        stack.stop()
        signal.signal(signal.SIGINT, previous)
    typer.echo(summary_line(report), err=True)
    typer.echo(json.dumps(report))


def _evaluate_suite(model: str, name: str, jobs: int | None, data: Path | None, timeout: float) -> None:
    from tensorkart_cli.suite_runner import SuiteRunError, default_jobs, run_suite
    from tensorkart_simulator.suites import SuiteError, load_suite

    try:
        loaded = load_suite(name)
    except SuiteError as error:
        raise CliError(str(error), "suite files are described in docs/simulator.md", status=2) from None
    try:
        run_suite(model, loaded, jobs or default_jobs(), data, timeout, emit=typer.echo)
    except SuiteRunError as error:
        raise CliError(str(error), "rerun that run alone with tensorkart eval --verbose") from None
