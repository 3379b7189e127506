"""`tensorkart sim`: run the practice track (the simulator runs in this process).

Same options as `python -m tensorkart_simulator run`; `--report` prints the contract JSON
({"track", "driver"|"model", "laps", "sim_seconds", "interventions", "autonomy", "progress", "fps"}) last.
"""

from __future__ import annotations

import typer

from tensorkart_cli.errors import CliError


def sim(
    track: str = typer.Option("luigi", help="built-in track (luigi, twists, heldout) or a track .json file"),
    driver: str = typer.Option("expert", help="expert | controller | gamepad"),
    laps: int = typer.Option(3, help="stop after N laps (0: no lap limit)"),
    headless: bool = typer.Option(False, "--headless/--window", help="no window / show the game window"),
    realtime: bool | None = typer.Option(
        None, "--realtime/--lockstep", help="wall-clock 30 Hz (default with a window) / no pacing (default headless)"
    ),
    seed: int = typer.Option(0, help="seed of the expert's noise and manoeuvres"),
    noise: float = typer.Option(0.05, help="expert steering noise (stick units)"),
    manoeuvres: bool = typer.Option(True, "--manoeuvres/--no-manoeuvres", help="expert drift-and-recover"),
    input_bot: str = typer.Option("http://127.0.0.1:8082", help="input-bot endpoint for --driver controller"),
    poll_timeout: float = typer.Option(2.0, help="seconds before an input-bot poll counts as neutral"),
    feed_port: int = typer.Option(0, help="serve the gRPC frame feed on this port (0 = off)"),
    wait_for_subscriber: bool = typer.Option(False, help="start once a feed client is connected"),
    max_seconds: float | None = typer.Option(None, help="stop after S simulated seconds"),
    hud: bool = typer.Option(True, "--hud/--no-hud", help="show lap, time and speed"),
    label_model: str | None = typer.Option(None, help='report "model": VERSION instead of "driver"'),
    report: bool = typer.Option(False, "--report", help="print the result as one JSON line at the end"),
    linger: float = typer.Option(0.0, help="window: keep the last frame up for S seconds"),
    theme: str | None = typer.Option(None, help="raceway, beach, snow, desert, night or a theme .json file"),
    theme_jitter: float = typer.Option(0.0, help="seeded lighting and colour jitter, 0..1"),
    traffic: int = typer.Option(0, help="computer karts (0..12)"),
) -> None:
    """Run the practice track (Mode-7 kart simulator standing in for mupen64plus + a ROM)."""
    from tensorkart_cli import preflight
    from tensorkart_cli.summary import summary_line
    from tensorkart_core.logs import setup_logging

    preflight.track(track)
    if laps < 0:
        raise CliError(f"--laps must be >= 0, got {laps}", "e.g. --laps 3 (0: no lap limit)", status=2)
    preflight.positive(max_seconds, "--max-seconds", "60")
    if not headless:
        preflight.display("the game window (--window)")
    try:
        from tensorkart_simulator.__main__ import run_cli
        from tensorkart_simulator.options import SimOptions
    except ImportError:  # the simulator package is a separate install
        raise CliError("tensorkart sim needs the tensorkart-simulator package", "run: make setup", status=2) from None
    setup_logging("simulator")
    options = SimOptions(
        track=track,
        driver=driver,
        laps=laps,
        headless=headless,
        realtime=realtime,
        seed=seed,
        noise=noise,
        manoeuvres=manoeuvres,
        input_bot=input_bot,
        poll_timeout=poll_timeout,
        feed_port=feed_port,
        wait_for_subscriber=wait_for_subscriber,
        max_seconds=max_seconds,
        hud=hud,
        label_model=label_model,
        report=report,
        linger=linger,
        theme=theme,
        theme_jitter=theme_jitter,
        traffic=traffic,
    )
    raise typer.Exit(run_cli(options, on_report=lambda report: typer.echo(summary_line(report), err=True)))
