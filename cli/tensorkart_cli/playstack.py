"""Processes `tensorkart play` and `tensorkart eval` start: private inference / controller
servers on free ports and the practice track with its frame feed, plus running the edge relay
between them.

Children run under the local-stack supervisor (process group, die with the CLI, SIGTERM then
SIGKILL); their output is kept (the simulator's report is its last JSON line) and shown with
--verbose or when something fails.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tensorkart_cli.supervisor import ChildSpec, Supervisor, free_port, grpc_ready, python_module


class StackError(RuntimeError):
    """A private service did not start; the message carries its last log lines."""


@dataclass
class Outputs:
    """Every child's output lines (bounded), optionally echoed to stderr."""

    verbose: bool = False
    lines: dict[str, deque[str]] = field(default_factory=dict)

    def __call__(self, line: str) -> None:
        name, _, text = line.partition(" | ")
        self.lines.setdefault(name.strip(), deque(maxlen=400)).append(text)
        if self.verbose:
            print(line, file=sys.stderr, flush=True)

    def tail(self, name: str, count: int = 25) -> str:
        return "\n".join(list(self.lines.get(name, ()))[-count:])

    def last_error(self, name: str) -> str:
        """The child's own last error line (else its last line): what to show when it failed."""
        lines = [line.strip() for line in self.lines.get(name, ()) if line.strip()]
        for line in reversed(lines):
            lowered = line.lower()
            if "error" in lowered or lowered.startswith("tensorkart"):
                return line
        return lines[-1] if lines else "no output"

    def last_json(self, name: str) -> dict | None:
        for text in reversed(self.lines.get(name, ())):
            if text.startswith("{"):
                try:
                    return json.loads(text)
                except ValueError:
                    continue
        return None


@dataclass
class PrivateStack:
    """Private services on free loopback ports, stopped together."""

    outputs: Outputs
    supervisor: Supervisor
    inference_addr: str = ""
    controller_addr: str = ""
    input_bot_url: str = ""

    @classmethod
    def create(cls, verbose: bool = False) -> PrivateStack:
        outputs = Outputs(verbose)
        return cls(outputs, Supervisor(out=outputs, grace_seconds=10.0))

    def start_inference(self, data_root: Path, model: str) -> str:
        port = free_port()
        self.inference_addr = f"127.0.0.1:{port}"
        env = {
            "TENSORKART_DATA": str(data_root),
            "INFERENCE_MODEL": model,
            "INFERENCE_HOST": "127.0.0.1",
            "INFERENCE_PORT": str(port),
            "INFERENCE_METRICS_PORT": "0",
        }
        self.supervisor.start(
            ChildSpec("inference", python_module("tensorkart_inference"), env, ready=grpc_ready(self.inference_addr))
        )
        return self.inference_addr

    def start_controller(self, mode: str = "lock_step", lock_step_timeout_ms: int = 2000) -> str:
        port, http_port = free_port(), free_port()
        self.controller_addr = f"127.0.0.1:{port}"
        self.input_bot_url = f"http://127.0.0.1:{http_port}"
        env = {
            "CONTROLLER_HOST": "127.0.0.1",
            "CONTROLLER_HTTP_HOST": "127.0.0.1",
            "CONTROLLER_PORT": str(port),
            "CONTROLLER_HTTP_PORT": str(http_port),
            "CONTROLLER_METRICS_PORT": "0",
            "CONTROLLER_MODE": mode,
            "CONTROLLER_LOCK_STEP_TIMEOUT_MS": str(lock_step_timeout_ms),
            "CONTROLLER_SAFETY_TIMEOUT_MS": str(max(200, lock_step_timeout_ms)),
        }
        self.supervisor.start(
            ChildSpec("controller", python_module("tensorkart_controller"), env, ready=grpc_ready(self.controller_addr))
        )
        return self.controller_addr

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Every child ready; else StackError naming the child that failed, with its own last error line."""
        missing = self.supervisor.wait_ready(timeout)
        self.raise_if_dead()
        if missing:
            raise StackError(
                f"{', '.join(missing)} did not start in {timeout:.0f}s: {self.outputs.last_error(missing[0])}"
            )

    def raise_if_dead(self) -> None:
        """StackError for the first child that exited with an error (its own last error line), if any."""
        for child in self.supervisor.dead():
            if child.process.returncode != 0:
                name = child.spec.name
                raise StackError(
                    f"{name} exited with status {child.process.returncode}: {self.outputs.last_error(name)}"
                )

    def start_simulator(self, arguments: list[str]) -> tuple[str, object]:
        """Start `python -m tensorkart_simulator run ARGUMENTS --feed-port P --wait-for-subscriber`."""
        feed_port = free_port()
        command = [
            *python_module("tensorkart_simulator"),
            "run",
            *arguments,
            "--feed-port",
            str(feed_port),
            "--wait-for-subscriber",
        ]
        env = {"SIMULATOR_HOST": "127.0.0.1", "SIMULATOR_METRICS_PORT": "0"}
        child = self.supervisor.start(ChildSpec("simulator", command, env))
        return f"127.0.0.1:{feed_port}", child

    def stop(self) -> None:
        self.supervisor.stop_all()


def run_relay_on_sim(
    options,
    feed_address: str,
    simulator,
    stop: threading.Event,
    human: Callable | None = None,
    progress: Callable | None = None,
    connect_timeout: float = 60.0,
    outputs: Outputs | None = None,
):
    """Relay the simulator's feed until it finishes (or `stop`); returns the relay's stats."""
    from tensorkart_capture.relay import Relay

    relay = Relay(options, human)
    if not relay.wait_connected(connect_timeout):
        relay.close()
        raise StackError(f"inference at {options.inference_addr} did not accept a Drive stream")
    try:
        source = open_feed(feed_address, simulator, connect_timeout, outputs)
    except (StackError, ConnectionError):
        relay.close()
        raise
    try:
        return relay.run(source, stop, progress)
    finally:
        source.close()


def open_feed(feed_address: str, simulator, timeout: float, outputs: Outputs | None = None):
    """The simulator's frame feed as a capture source; fails fast if the simulator dies first."""
    from tensorkart_capture.sources import open_source

    deadline = time.monotonic() + timeout
    while True:
        if simulator.process.poll() is not None:
            time.sleep(0.2)  # let its last lines arrive
            cause = f": {outputs.last_error('simulator')}" if outputs is not None else ""
            raise StackError(
                f"the practice track exited with status {simulator.process.returncode} before its feed opened{cause}"
            )
        try:
            return open_source("sim", address=feed_address, connect_timeout=1.0)
        except ConnectionError:
            if time.monotonic() > deadline:
                raise


def wait_exit(child, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            return child.process.returncode
        time.sleep(0.05)
    return None
