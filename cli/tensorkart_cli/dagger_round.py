"""One DAgger round's drive (a child process of `tensorkart dagger`, so each round's gRPC clients
live and die with it): VERSION drives the practice track through a private inference server and
a lock-step controller; the simulator's expert takes over as a human holding LB would when the
kart is about to leave the road (`--takeover expert`), the edge relay pushes its stick as human
steering and records those frames through the recorder as `<session>-interventions`. Prints the
simulator's report (with `takeovers`, `takeover_seconds`) and the relay's totals as the last line.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tensorkart_cli.dagger_round")
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--recorder", required=True)
    parser.add_argument("--session", required=True)
    parser.add_argument("--track", default="luigi")
    parser.add_argument("--theme", default=None)
    parser.add_argument("--traffic", type=int, default=0)
    parser.add_argument("--laps", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    from tensorkart_capture.relay import Relay, RelayOptions, human_reader, interventions_streamer
    from tensorkart_cli.playstack import PrivateStack, StackError, open_feed, wait_exit

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stack = PrivateStack.create(args.verbose)
    try:
        # every child is started before the first gRPC call (fork safety)
        stack.start_inference(args.data, args.model)
        stack.start_controller("lock_step")
        feed, simulator = stack.start_simulator(
            [
                "--headless", "--lockstep", "--driver", "controller", "--input-bot", stack.input_bot_url,
                "--takeover", "expert", "--track", args.track, "--laps", str(args.laps),
                "--max-seconds", str(180.0 * args.laps), "--seed", str(args.seed), "--traffic", str(args.traffic),
                "--label-model", args.model, "--report", *(["--theme", args.theme] if args.theme else []),
            ]
        )  # fmt: skip
        stack.wait_ready()
        options = RelayOptions(
            stack.inference_addr, stack.controller_addr, max_frame_age_ms=60_000, session=args.session
        )
        metadata = {"source": "sim", "track": args.track, "theme": args.theme or "", "driver": "expert-takeover"}
        streamer = interventions_streamer(args.recorder, args.session, metadata)
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
    sys.exit(main())
