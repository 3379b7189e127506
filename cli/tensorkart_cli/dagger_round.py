"""One DAgger round's drive (a child process of `tensorkart dagger`, so each round's gRPC clients
live and die with it): VERSION drives the practice track through a private inference server and
a lock-step controller; the simulator's expert takes over as a human holding LB would when the
kart is about to leave the road (`--takeover expert`), the edge relay pushes its stick as human
steering and records those frames through the recorder as `<session>-interventions`. Prints the
simulator's report (with `takeovers`, `takeover_seconds`) and the relay's totals as the last line.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from tensorkart_core.cli import command_app

app = command_app(__doc__.splitlines()[0], group=False)


@app.command()
def dagger_round(
    model: Annotated[str, typer.Option(help="model version that drives")],
    data: Annotated[Path, typer.Option(help="data root")],
    recorder: Annotated[str, typer.Option(help="recorder host:port (interventions)")],
    session: Annotated[str, typer.Option(help="session name of the interventions")],
    track: str = "luigi",
    theme: str | None = None,
    theme_jitter: float = 0.0,
    traffic: int = 0,
    laps: int = 1,
    seed: int = 0,
    takeover_budget: float | None = None,
    verbose: bool = False,
) -> None:
    """One DAgger round's drive; prints the simulator's report and the relay's totals as the last line."""
    look = Look(theme, theme_jitter, traffic)
    raise typer.Exit(drive(model, data, recorder, session, track, look, laps, seed, takeover_budget, verbose))


@dataclass(frozen=True)
class Look:
    """How the driven track looks: theme (None: the track's own), seeded jitter, computer karts."""

    theme: str | None = None
    jitter: float = 0.0
    traffic: int = 0


def drive(
    model: str,
    data: Path,
    recorder: str,
    session: str,
    track: str,
    look: Look,
    laps: int,
    seed: int,
    takeover_budget: float | None,
    verbose: bool,
) -> int:
    """The round (see the module docstring); its exit status."""
    from tensorkart_capture.relay import Relay, RelayOptions, human_reader, interventions_streamer
    from tensorkart_cli.playstack import PrivateStack, StackError, open_feed, wait_exit

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stack = PrivateStack.create(verbose)
    try:
        # every child is started before the first gRPC call (fork safety)
        stack.start_inference(data, model)
        stack.start_controller("lock_step")
        feed, simulator = stack.start_simulator(
            [
                "--headless", "--lockstep", "--driver", "controller", "--input-bot", stack.input_bot_url,
                "--takeover", "expert", "--track", track, "--laps", str(laps),
                "--max-seconds", str(180.0 * laps), "--seed", str(seed), "--traffic", str(look.traffic),
                "--theme-jitter", str(look.jitter), "--label-model", model, "--report",
                *(["--theme", look.theme] if look.theme else []),
                *(["--takeover-budget", str(takeover_budget)] if takeover_budget is not None else []),
            ]
        )  # fmt: skip
        stack.wait_ready()
        options = RelayOptions(stack.inference_addr, stack.controller_addr, max_frame_age_ms=60_000, session=session)
        metadata = {"source": "sim", "track": track, "theme": look.theme or "", "driver": "expert-takeover"}
        streamer = interventions_streamer(recorder, session, metadata)
        relay = Relay(options, human_reader("frame"), streamer)
        if not relay.wait_connected(60):
            relay.close()
            raise StackError(f"inference at {options.inference_addr} did not accept a Drive stream")
        with open_feed(feed, simulator, 60.0) as frames:
            stats = relay.run(frames, stop, None)
        code = wait_exit(simulator, 30.0)
        report = stack.outputs.last_json("simulator")
        if code != 0 or report is None:
            print(f"error: the simulator failed (status {code}):\n{stack.outputs.tail('simulator')}", file=sys.stderr)
            return 1
    except (StackError, ConnectionError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    print(json.dumps({"sim": report, "relay": stats.to_dict()}, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    app(prog_name="python -m tensorkart_cli.dagger_round")
